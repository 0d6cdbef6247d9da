import { readFileSync } from 'node:fs';
import { parseArgs } from 'node:util';
import { LANGUAGE_VARIABLE, type Language, type ParameterKind, cliHelp, parameterKeyId, parameterKindSchema, takeLanguageOption } from '@busfare/shared-protocol';
import { loadConfig, type ConfigOverrides } from '../config.js';
import { databaseFolderProblem, missingDatabaseProblem } from '../config-paths-check.js';
import { ParameterAuthoring } from '../params/authoring.js';
import { terminalParameterStatus } from '../params/fleet-parameter-status.js';
import { ParameterRepository, type StoredPublication } from '../params/parameter-repository.js';
import { loadSigningKey, writeSigningKeyPair } from '../params/signing-key-file.js';
import { ParameterFileError } from '../params/fare-table-file.js';

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
 * Parses a command's options after taking out --lang. `language` is the help language a parent
 * command chose. A --lang in args overrides it, and without either BUSFARE_LANG applies.
 */
function parse<T extends NonNullable<Parameters<typeof parseArgs>[0]>['options']>(args: string[], options: T, language: Language | undefined, allowPositionals = false) {
  const selection = takeLanguageOption(args, language ?? process.env[LANGUAGE_VARIABLE]);
  try {
    return { ...parseArgs({ args: selection.args, options, allowPositionals, strict: true }), language: selection.language };
  } catch (error) {
    throw new UsageError((error as Error).message);
  }
}

/** Runs `params keygen`. */
export function keygenCommand(args: string[], io: CommandIo, language?: Language): number {
  const { values, language: helpLanguage } = parse(args, { private: { type: 'string' }, public: { type: 'string' }, help: { type: 'boolean', short: 'h' } }, language);
  if (values.help) {
    io.stdout(cliHelp('backoffice.params.keygen', helpLanguage));
    return EXIT_OK;
  }
  if (values.private === undefined) throw new UsageError('missing --private FILE (where to write the private key)');
  if (values.public === undefined) throw new UsageError('missing --public FILE (where to write the public key)');
  const { keyId } = writeSigningKeyPair(values.private, values.public);
  io.stdout(`${JSON.stringify({ keyId, privateKey: values.private, publicKey: values.public })}\n`);
  io.stderr(`wrote ${values.private} (mode 0600) and ${values.public}; set parameterSigningKey to ${values.private} and provision ${values.public} on every terminal\n`);
  return EXIT_OK;
}

/** Runs `params publish`. */
export function publishCommand(args: string[], io: CommandIo, language?: Language): number {
  const { values, language: helpLanguage } = parse(args, { ...storeOptions, kind: { type: 'string' }, file: { type: 'string' }, version: { type: 'string' }, 'effective-from': { type: 'string' } }, language);
  if (values.help) {
    io.stdout(cliHelp('backoffice.params.publish', helpLanguage, { storeOptions: cliHelp('backoffice.params.storeOptions', helpLanguage) }));
    return EXIT_OK;
  }
  if (values.kind === undefined) throw new UsageError('missing --kind KIND (fare-table, blacklist, routes or issuers)');
  const kind = parameterKindSchema.safeParse(values.kind);
  if (!kind.success) throw new UsageError(`invalid --kind "${values.kind}": expected fare-table, blacklist, routes or issuers`);
  if (values.file === undefined) throw new UsageError('missing --file FILE (the set body as JSON)');
  if (values.version === undefined) throw new UsageError('missing --version N');
  if (!/^[1-9][0-9]{0,15}$/.test(values.version)) throw new UsageError(`invalid --version "${values.version}": expected a positive integer`);
  const body = readBody(values.file, kind.data);

  return withAuthoring(values, io, (authoring) =>
    authoring.create({ kind: kind.data, body, version: Number(values.version), ...(values['effective-from'] === undefined ? {} : { effectiveFrom: values['effective-from'] }) }),
  );
}

/** Runs `params blacklist add|remove ASN...`. */
export function blacklistCommand(args: string[], io: CommandIo, language?: Language): number {
  const { values, positionals, language: helpLanguage } = parse(args, { ...storeOptions, 'effective-from': { type: 'string' } }, language, true);
  if (values.help) {
    io.stdout(cliHelp('backoffice.params.blacklist', helpLanguage, { storeOptions: cliHelp('backoffice.params.storeOptions', helpLanguage) }));
    return EXIT_OK;
  }
  const [action, ...asns] = positionals;
  if (action !== 'add' && action !== 'remove') throw new UsageError(`expected "add" or "remove" after "params blacklist", got ${action === undefined ? 'nothing' : `"${action}"`}`);
  if (asns.length === 0) throw new UsageError(`missing ASN: give one or more after "params blacklist ${action}"`);
  // Lower-case hex is accepted and stored upper-case, so the message quotes what was typed.
  const invalid: string[] = [];
  asns.forEach((asn, index) => {
    if (!/^[0-9A-Fa-f]{16}$/.test(asn)) invalid.push(`  ${action}.${index}: ${JSON.stringify(asn)} is not 16 hex digits (the right-most 8 bytes of the ASN)`);
  });
  if (invalid.length > 0) throw new UsageError(`invalid ASN:\n${invalid.join('\n')}`);
  const normalized = asns.map((asn) => asn.toUpperCase());
  const effectiveFrom = values['effective-from'];
  return withAuthoring(values, io, (authoring) =>
    action === 'add' ? authoring.changeBlacklist(normalized, [], effectiveFrom) : authoring.changeBlacklist([], normalized, effectiveFrom),
  );
}

/** Runs `params status`. */
export function statusCommand(args: string[], io: CommandIo, language?: Language): number {
  const { values, language: helpLanguage } = parse(args, { config: { type: 'string' }, db: { type: 'string' }, 'behind-only': { type: 'boolean' }, help: { type: 'boolean', short: 'h' } }, language);
  if (values.help) {
    io.stdout(cliHelp('backoffice.params.status', helpLanguage));
    return EXIT_OK;
  }
  const config = loadConfig(values.config, values.db === undefined ? {} : { db: values.db });
  const databaseProblem = missingDatabaseProblem(config.db);
  if (databaseProblem !== undefined) throw new UsageError(databaseProblem);
  const repository = new ParameterRepository(config.db);
  try {
    const statuses = terminalParameterStatus(config.db, repository, new Date());
    for (const status of statuses) {
      if (values['behind-only'] && status.behind === false) continue;
      io.stdout(`${JSON.stringify(status)}\n`);
    }
    const behind = statuses.filter((status) => status.behind === true).length;
    const unknown = statuses.filter((status) => status.behind === null).length;
    io.stderr(`${statuses.length} terminals, ${behind} behind, ${unknown} without reported versions\n`);
  } finally {
    repository.close();
  }
  return EXIT_OK;
}

function withAuthoring(values: { config?: string | undefined; db?: string | undefined; 'signing-key'?: string | undefined }, io: CommandIo, author: (authoring: ParameterAuthoring) => StoredPublication): number {
  const overrides: ConfigOverrides = values.db === undefined ? {} : { db: values.db };
  const config = loadConfig(values.config, overrides);
  const keyPath = values['signing-key'] ?? config.parameterSigningKey;
  if (keyPath === undefined) throw new UsageError('missing signing key: pass --signing-key FILE or set parameterSigningKey in the config (create one with "busfare-backoffice params keygen")');
  const signingKey = loadSigningKey(keyPath);
  const databaseProblem = databaseFolderProblem(config.db);
  if (databaseProblem !== undefined) throw new UsageError(databaseProblem);
  const repository = new ParameterRepository(config.db);
  try {
    const { set, chunks } = author(new ParameterAuthoring({ repository, signingKey }));
    const mode = (set.body as { mode?: unknown }).mode;
    io.stdout(`${JSON.stringify({ kind: set.kind, version: set.version, ...(typeof mode === 'string' ? { mode } : {}), effectiveFrom: set.effectiveFrom, bodySha256: set.bodySha256, keyId: parameterKeyId(signingKey), chunks: chunks?.length ?? 0 })}\n`);
    io.stderr(`stored ${set.kind} version ${set.version} in ${config.db}; the running back office publishes it\n`);
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
    throw new ParameterFileError(path, [`cannot read the file: ${(error as Error).message}`]);
  }
  let parsed: unknown;
  try {
    parsed = JSON.parse(text);
  } catch (error) {
    if (kind !== 'blacklist') throw new ParameterFileError(path, [`invalid JSON: ${(error as Error).message}`]);
    const entries = text.split(/\r?\n/).map((line) => line.trim().toUpperCase()).filter((line) => line.length > 0 && !line.startsWith('#'));
    return { mode: 'full', entries };
  }
  const candidate = parsed as { kind?: unknown; body?: unknown };
  if (typeof parsed === 'object' && parsed !== null && 'kind' in candidate && 'body' in candidate) {
    if (candidate.kind !== kind) throw new ParameterFileError(path, [`kind: the file contains a "${String(candidate.kind)}" set, expected "${kind}"`]);
    return candidate.body;
  }
  return parsed;
}
