import { parseArgs } from 'node:util';
import { type CliTextId, DEFAULT_LANGUAGE, LANGUAGE_VARIABLE, type Language, cliHelp, cliText, parseArgsErrorText, problemListText, takeLanguageOption } from '@busfare/shared-protocol';
import { ConfigError, loadConfig } from '../config.js';
import { databaseFolderProblem, missingDatabaseProblem } from '../config-paths-check.js';
import { CredentialError, TerminalCredentialStore } from './credential-store.js';

/** The catalogue message of each credential store error, worded for the command's user. */
const CREDENTIAL_ERROR_TEXT = {
  'invalid-terminal-id': 'cli.terminals.invalidId',
  'already-registered': 'cli.terminals.alreadyRegistered',
  'not-found': 'cli.terminals.notRegistered',
} as const satisfies Record<CredentialError['code'], CliTextId>;

/**
 * Runs `busfare-backoffice terminals ...` and returns the exit code. It is 0 on success, 1 when
 * remove names an unknown terminal, and 2 for invalid options, terminal ids or database paths
 * and for add of a registered terminal without --replace. `language` is the help language a
 * parent command chose. A --lang in args overrides it, and without either BUSFARE_LANG applies.
 */
export async function terminalsCommand(args: string[], language?: Language): Promise<number> {
  let parsed;
  let helpText: string;
  let chosen: Language = language ?? DEFAULT_LANGUAGE;
  try {
    const selection = takeLanguageOption(args, language ?? process.env[LANGUAGE_VARIABLE]);
    chosen = selection.language;
    helpText = cliHelp('backoffice.terminals', chosen);
    parsed = parseArgs({
      args: selection.args,
      allowPositionals: true,
      strict: true,
      options: { config: { type: 'string' }, db: { type: 'string' }, replace: { type: 'boolean' }, help: { type: 'boolean', short: 'h' } },
    });
  } catch (error) {
    const message = parseArgsErrorText(error, chosen, 'busfare-backoffice terminals') ?? (error as Error).message;
    process.stderr.write(`busfare-backoffice terminals: ${message}\n`);
    return 2;
  }
  const { values, positionals } = parsed;
  if (values.help) {
    process.stdout.write(helpText);
    return 0;
  }
  const [action, terminalId, ...extra] = positionals;
  const needsId = action === 'add' || action === 'remove';
  if ((action !== 'add' && action !== 'list' && action !== 'remove') || (needsId && terminalId === undefined) || extra.length > 0 || (!needsId && terminalId !== undefined)) {
    process.stderr.write(`busfare-backoffice terminals: ${cliText('cli.terminals.expectedAction', chosen)}\n\n${helpText}`);
    return 2;
  }

  let db: string;
  try {
    db = loadConfig(values.config, values.db === undefined ? {} : { db: values.db }).db;
  } catch (error) {
    if (!(error instanceof ConfigError)) throw error;
    process.stderr.write(`busfare-backoffice terminals: ${problemListText(cliText('cli.configInvalid', chosen, { source: error.source }), error.problemsIn(chosen))}\n`);
    return 2;
  }

  // list and remove need the database that serve or add created, so that a mistyped path does
  // not leave a new empty database behind. add creates the database when it is missing.
  const databaseProblem = action === 'add' ? databaseFolderProblem(db) : missingDatabaseProblem(db);
  if (databaseProblem !== undefined) {
    const source = values.db === undefined ? (values.config ?? 'defaults') : '--db';
    process.stderr.write(`busfare-backoffice terminals: ${problemListText(cliText('cli.configInvalid', chosen, { source }), [databaseProblem[chosen]])}\n`);
    return 2;
  }

  const access = { add: 'create', list: 'read-only', remove: 'existing' } as const;
  const store = new TerminalCredentialStore(db, { access: access[action] });
  try {
    if (action === 'list') {
      for (const row of store.list()) process.stdout.write(`${row.terminalId}\t${row.createdAt}\n`);
      return 0;
    }
    if (action === 'remove') {
      store.remove(terminalId!);
      process.stderr.write(`${cliText('cli.terminals.removed', chosen, { terminalId: terminalId! })}\n`);
      return 0;
    }
    const secret = await store.add(terminalId!, { replace: values.replace === true });
    process.stdout.write(`${secret}\n`);
    process.stderr.write(`${cliText('cli.terminals.registered', chosen, { terminalId: terminalId! })}\n`);
    return 0;
  } catch (error) {
    if (!(error instanceof CredentialError)) throw error;
    process.stderr.write(`busfare-backoffice terminals: ${cliText(CREDENTIAL_ERROR_TEXT[error.code], chosen, { terminalId: terminalId! })}\n`);
    return error.code === 'not-found' ? 1 : 2;
  } finally {
    store.close();
  }
}
