import { readFileSync } from 'node:fs';
import { parseArgs } from 'node:util';
import { parameterKeyId, parameterKindSchema, type ParameterKind } from '@busfare/shared-protocol';
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

const STORE_OPTIONS = `  --config FILE          Back-office JSON config (db, parameterSigningKey)
  --db FILE              Clearing database, in place of the config's db
  --signing-key FILE     Ed25519 private key (PEM, mode 0600), in place of the config's parameterSigningKey`;

export const KEYGEN_HELP = `Usage: busfare-backoffice params keygen --private FILE --public FILE

Generates the Ed25519 key pair that signs parameter sets. The private key goes to --private with
mode 0600; set it as parameterSigningKey in the back-office config. The public key goes to
--public; provision it on every terminal, which then accepts only sets signed by this key.
Existing files are never overwritten. Prints {"keyId": ...} on stdout.

Options:
  --private FILE   Where to write the private key (PKCS #8 PEM)
  --public FILE    Where to write the public key (SPKI PEM)
  -h, --help       Show this help

Exit codes: 0 written, 1 failure, 2 invalid options or a file already exists.
`;

export const PUBLISH_HELP = `Usage: busfare-backoffice params publish --kind KIND --file FILE --version N [--effective-from TIME]

Checks a parameter set as terminals will, signs it and stores it in the clearing database; the
running back office publishes it (retained) within its poll interval of 2 s, or at its next
start. Prints the stored set's kind, version, effectiveFrom, bodySha256 and keyId as one JSON
line on stdout; every problem found goes to stderr.

Options:
  --kind KIND            fare-table, blacklist, routes or issuers
  --file FILE            JSON body of the set, or a whole set whose body is taken; for a
                         blacklist also a text file with one ASN (16 hex digits) per line
  --version N            Version number, above every stored version of the kind
  --effective-from TIME  ISO 8601 time with offset when terminals switch to it (default now)
${STORE_OPTIONS}
  -h, --help             Show this help

Exit codes: 0 stored, 1 failure, 2 invalid options, file or set.
`;

export const BLACKLIST_HELP = `Usage: busfare-backoffice params blacklist add|remove ASN... [--effective-from TIME]

Adds cards to or removes cards from the blacklist as one new signed version: a delta on top of
the newest full list, or a new full list once the changes since it exceed 50,000 entries. The
first change when no list exists yet makes a full list. An ASN is the right-most 8 bytes of the
card's application serial number as 16 hex digits. Prints the stored set as one JSON line.

Options:
  --effective-from TIME  ISO 8601 time with offset when terminals switch to it (default now)
${STORE_OPTIONS}
  -h, --help             Show this help

Exit codes: 0 stored, 1 failure, 2 invalid options or ASNs.
`;

export const STATUS_HELP = `Usage: busfare-backoffice params status [--behind-only]

Prints one JSON line per terminal with, for each parameter kind, the active and pending versions
from its last status message, the newest published version and the newest one already
effective, and whether the terminal is behind. A terminal is behind on a kind when its active
version is below the newest effective one or it has neither the newest version nor a newer one.
"behind" is null when the terminal's last status carries no versions (it went offline).

Options:
  --behind-only    Print only the terminals that are behind or whose versions are unknown
  --config FILE    Back-office JSON config (db)
  --db FILE        Clearing database, in place of the config's db; it must exist
  -h, --help       Show this help

Exit codes: 0 printed, 1 failure, 2 invalid options or a missing database.
`;

const storeOptions = {
  config: { type: 'string' },
  db: { type: 'string' },
  'signing-key': { type: 'string' },
  help: { type: 'boolean', short: 'h' },
} as const;

function parse<T extends NonNullable<Parameters<typeof parseArgs>[0]>['options']>(args: string[], options: T, allowPositionals = false) {
  try {
    return parseArgs({ args, options, allowPositionals, strict: true });
  } catch (error) {
    throw new UsageError((error as Error).message);
  }
}

/** Runs `params keygen`. */
export function keygenCommand(args: string[], io: CommandIo): number {
  const { values } = parse(args, { private: { type: 'string' }, public: { type: 'string' }, help: { type: 'boolean', short: 'h' } });
  if (values.help) {
    io.stdout(KEYGEN_HELP);
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
export function publishCommand(args: string[], io: CommandIo): number {
  const { values } = parse(args, { ...storeOptions, kind: { type: 'string' }, file: { type: 'string' }, version: { type: 'string' }, 'effective-from': { type: 'string' } });
  if (values.help) {
    io.stdout(PUBLISH_HELP);
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
export function blacklistCommand(args: string[], io: CommandIo): number {
  const { values, positionals } = parse(args, { ...storeOptions, 'effective-from': { type: 'string' } }, true);
  if (values.help) {
    io.stdout(BLACKLIST_HELP);
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
export function statusCommand(args: string[], io: CommandIo): number {
  const { values } = parse(args, { config: { type: 'string' }, db: { type: 'string' }, 'behind-only': { type: 'boolean' }, help: { type: 'boolean', short: 'h' } });
  if (values.help) {
    io.stdout(STATUS_HELP);
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
