import { readFileSync } from 'node:fs';
import { parseArgs } from 'node:util';
import { LANGUAGE_VARIABLE, type Language, type ParameterKind, cliHelp, cliText, cliTextEntry, fileErrorEntry, parameterKeyId, parameterKindSchema, parseArgsErrorText, takeLanguageOption } from '@busfare/shared-protocol';
import { loadConfig, type ConfigOverrides } from '../config.js';
import { databaseFolderProblem, missingDatabaseProblem } from '../config-paths-check.js';
import { ParameterAuthoring } from '../params/authoring.js';
import { terminalParameterStatus } from '../params/fleet-parameter-status.js';
import { ParameterRepository, type StoredPublication } from '../params/parameter-repository.js';
import { loadSigningKey, writeSigningKeyPair } from '../params/signing-key-file.js';
import { ParameterFileError } from '../params/fare-table-file.js';
import { blacklistKeyOf } from '../params/blacklist-key.js';

export interface CommandIo {
  stdout(text: string): void;
  stderr(text: string): void;
}

/** Invalid options or arguments: exit code 2. */
export class UsageError extends Error {}

const EXIT_OK = 0;

const storeOptions = {
  config: { type: 'string' },
  db: { type: 'string' },
  'signing-key': { type: 'string' },
  help: { type: 'boolean', short: 'h' },
} as const;

/**
 * Parses the options of `params COMMAND` after taking out --lang. `language` is the language a
 * parent command chose. A --lang in args overrides it, and without either BUSFARE_LANG applies.
 */
function parse<T extends NonNullable<Parameters<typeof parseArgs>[0]>['options']>(args: string[], options: T, language: Language | undefined, command: string, allowPositionals = false) {
  const selection = takeLanguageOption(args, language ?? process.env[LANGUAGE_VARIABLE]);
  try {
    return { ...parseArgs({ args: selection.args, options, allowPositionals, strict: true }), language: selection.language };
  } catch (error) {
    throw new UsageError(parseArgsErrorText(error, selection.language, `busfare-backoffice params ${command}`) ?? (error as Error).message);
  }
}

/** Runs `params keygen`. */
export function keygenCommand(args: string[], io: CommandIo, language?: Language): number {
  const { values, language: commandLanguage } = parse(args, { private: { type: 'string' }, public: { type: 'string' }, help: { type: 'boolean', short: 'h' } }, language, 'keygen');
  if (values.help) {
    io.stdout(cliHelp('backoffice.params.keygen', commandLanguage));
    return EXIT_OK;
  }
  if (values.private === undefined) throw new UsageError(cliText('cli.params.missingPrivate', commandLanguage));
  if (values.public === undefined) throw new UsageError(cliText('cli.params.missingPublic', commandLanguage));
  const { keyId } = writeSigningKeyPair(values.private, values.public);
  io.stdout(`${JSON.stringify({ keyId, privateKey: values.private, publicKey: values.public })}\n`);
  io.stderr(`${cliText('cli.params.keygenWrote', commandLanguage, { privateKey: values.private, publicKey: values.public })}\n`);
  return EXIT_OK;
}

/** Runs `params publish`. */
export function publishCommand(args: string[], io: CommandIo, language?: Language): number {
  const { values, language: commandLanguage } = parse(args, { ...storeOptions, kind: { type: 'string' }, file: { type: 'string' }, version: { type: 'string' }, 'effective-from': { type: 'string' } }, language, 'publish');
  if (values.help) {
    io.stdout(cliHelp('backoffice.params.publish', commandLanguage, { storeOptions: cliHelp('backoffice.params.storeOptions', commandLanguage) }));
    return EXIT_OK;
  }
  if (values.kind === undefined) throw new UsageError(cliText('cli.params.missingKind', commandLanguage));
  const kind = parameterKindSchema.safeParse(values.kind);
  if (!kind.success) throw new UsageError(cliText('cli.params.invalidKind', commandLanguage, { value: values.kind }));
  if (values.file === undefined) throw new UsageError(cliText('cli.params.missingFile', commandLanguage));
  if (values.version === undefined) throw new UsageError(cliText('cli.params.missingVersion', commandLanguage));
  if (!/^[1-9][0-9]{0,15}$/.test(values.version)) throw new UsageError(cliText('cli.params.invalidVersion', commandLanguage, { value: values.version }));
  const body = readBody(values.file, kind.data);

  return withAuthoring(values, io, commandLanguage, (authoring) =>
    authoring.create({ kind: kind.data, body, version: Number(values.version), ...(values['effective-from'] === undefined ? {} : { effectiveFrom: values['effective-from'] }) }),
  );
}

/** Runs `params blacklist add|remove ASN...`. */
export function blacklistCommand(args: string[], io: CommandIo, language?: Language): number {
  const { values, positionals, language: commandLanguage } = parse(args, { ...storeOptions, 'effective-from': { type: 'string' } }, language, 'blacklist', true);
  if (values.help) {
    io.stdout(cliHelp('backoffice.params.blacklist', commandLanguage, { storeOptions: cliHelp('backoffice.params.storeOptions', commandLanguage) }));
    return EXIT_OK;
  }
  const [action, ...asns] = positionals;
  if (action === undefined) throw new UsageError(cliText('cli.params.blacklistActionMissing', commandLanguage));
  if (action !== 'add' && action !== 'remove') throw new UsageError(cliText('cli.params.blacklistActionInvalid', commandLanguage, { action }));
  if (asns.length === 0) throw new UsageError(cliText('cli.params.missingAsn', commandLanguage, { action }));
  // A card number as the console shows it (20 digits) or its 16-digit key, in either case, so
  // the message quotes what was typed.
  const invalid: string[] = [];
  const normalized = asns.map((asn, index) => {
    const key = blacklistKeyOf(asn);
    if (key === undefined) invalid.push(`  ${cliText('cli.params.asnNotCard', commandLanguage, { field: `${action}.${index}`, value: JSON.stringify(asn) })}`);
    return key ?? asn;
  });
  if (invalid.length > 0) throw new UsageError(`${cliText('cli.params.invalidAsn', commandLanguage)}\n${invalid.join('\n')}`);
  const effectiveFrom = values['effective-from'];
  return withAuthoring(values, io, commandLanguage, (authoring) =>
    action === 'add' ? authoring.changeBlacklist(normalized, [], effectiveFrom) : authoring.changeBlacklist([], normalized, effectiveFrom),
  );
}

/** Runs `params status`. */
export function statusCommand(args: string[], io: CommandIo, language?: Language): number {
  const { values, language: commandLanguage } = parse(args, { config: { type: 'string' }, db: { type: 'string' }, 'behind-only': { type: 'boolean' }, help: { type: 'boolean', short: 'h' } }, language, 'status');
  if (values.help) {
    io.stdout(cliHelp('backoffice.params.status', commandLanguage));
    return EXIT_OK;
  }
  const config = loadConfig(values.config, values.db === undefined ? {} : { db: values.db });
  const databaseProblem = missingDatabaseProblem(config.db);
  if (databaseProblem !== undefined) throw new UsageError(databaseProblem[commandLanguage]);
  const repository = new ParameterRepository(config.db);
  try {
    const statuses = terminalParameterStatus(config.db, repository, new Date());
    for (const status of statuses) {
      if (values['behind-only'] && status.behind === false) continue;
      io.stdout(`${JSON.stringify(status)}\n`);
    }
    const behind = statuses.filter((status) => status.behind === true).length;
    const unknown = statuses.filter((status) => status.behind === null).length;
    io.stderr(`${cliText('cli.params.statusSummary', commandLanguage, { count: statuses.length, behind, unknown })}\n`);
  } finally {
    repository.close();
  }
  return EXIT_OK;
}

function withAuthoring(values: { config?: string | undefined; db?: string | undefined; 'signing-key'?: string | undefined }, io: CommandIo, language: Language, author: (authoring: ParameterAuthoring) => StoredPublication): number {
  const overrides: ConfigOverrides = values.db === undefined ? {} : { db: values.db };
  const config = loadConfig(values.config, overrides);
  const keyPath = values['signing-key'] ?? config.parameterSigningKey;
  if (keyPath === undefined) throw new UsageError(cliText('cli.params.missingSigningKey', language));
  const signingKey = loadSigningKey(keyPath);
  const databaseProblem = databaseFolderProblem(config.db);
  if (databaseProblem !== undefined) throw new UsageError(databaseProblem[language]);
  const repository = new ParameterRepository(config.db);
  try {
    const { set, chunks } = author(new ParameterAuthoring({ repository, signingKey }));
    const mode = (set.body as { mode?: unknown }).mode;
    io.stdout(`${JSON.stringify({ kind: set.kind, version: set.version, ...(typeof mode === 'string' ? { mode } : {}), effectiveFrom: set.effectiveFrom, bodySha256: set.bodySha256, keyId: parameterKeyId(signingKey), chunks: chunks?.length ?? 0 })}\n`);
    io.stderr(`${cliText('cli.params.stored', language, { kind: set.kind, version: set.version, db: config.db })}\n`);
  } finally {
    repository.close();
  }
  return EXIT_OK;
}

/** Reads a set body: JSON (a body or a whole set), or for a blacklist one ASN per line. */
function readBody(path: string, kind: ParameterKind): unknown {
  let text: string;
  try {
    text = readFileSync(path, 'utf8');
  } catch (error) {
    throw new ParameterFileError(path, [fileErrorEntry('cli.fileUnreadable', error)]);
  }
  let parsed: unknown;
  try {
    parsed = JSON.parse(text);
  } catch (error) {
    if (kind !== 'blacklist') throw new ParameterFileError(path, [cliTextEntry('cli.jsonInvalid', { message: (error as Error).message })]);
    const entries = text.split(/\r?\n/).map((line) => line.trim().toUpperCase()).filter((line) => line.length > 0 && !line.startsWith('#'));
    return { mode: 'full', entries };
  }
  const candidate = parsed as { kind?: unknown; body?: unknown };
  if (typeof parsed === 'object' && parsed !== null && 'kind' in candidate && 'body' in candidate) {
    if (candidate.kind !== kind) throw new ParameterFileError(path, [cliTextEntry('cli.params.kindMismatch', { found: String(candidate.kind), kind })]);
    return candidate.body;
  }
  return parsed;
}
