import { X509Certificate, createPrivateKey, type KeyObject } from 'node:crypto';
import { accessSync, constants, readFileSync, statSync } from 'node:fs';
import { dirname, resolve } from 'node:path';
import { type CatalogueEntry, type CliTextId, type ProblemText, cliText, cliTextEntry } from '@busfare/shared-protocol';
import { type BackOfficeConfig, ConfigError } from './config.js';
import { GtfsFeedError, importGtfsFeed } from './gtfs/gtfs-feed.js';
import { SigningKeyError, loadSigningKey } from './params/signing-key-file.js';

/** Files that `checkConfiguredPaths` has already read, so that start-up need not read them again. */
export interface CheckedFiles {
  /** The parameter-signing private key, when the config names one. */
  parameterSigningKey?: KeyObject;
}

/**
 * Checks every file and folder the config names before the back office opens or creates
 * anything: the database's folder, the issuer key file or PKCS#11 module, the parameter-signing
 * key, the arrivals GTFS folder and the TLS files. Throws a ConfigError that names the config
 * field and path of every problem found.
 */
export function checkConfiguredPaths(config: BackOfficeConfig, source: string, environment: NodeJS.ProcessEnv = process.env): CheckedFiles {
  const problems: ProblemText[] = [];
  const checked: CheckedFiles = {};
  const add = (problem: ProblemText | undefined) => {
    if (problem !== undefined) problems.push(problem);
  };

  add(databaseFolderProblem(config.db));

  if (config.pkcs11 !== undefined) {
    add(readableFileProblem('pkcs11.library', config.pkcs11.library, 'cli.paths.role.pkcs11'));
    const pin = environment[config.pkcs11.pinVariable];
    if (pin === undefined || pin === '') problems.push(cliTextEntry('cli.paths.pinNotSet', { variable: config.pkcs11.pinVariable }));
  } else if (config.keys !== undefined) {
    add(readableFileProblem('keys', config.keys, 'cli.paths.role.keys'));
  }

  if (config.parameterSigningKey !== undefined) {
    try {
      checked.parameterSigningKey = loadSigningKey(config.parameterSigningKey);
    } catch (error) {
      if (!(error instanceof SigningKeyError)) throw error;
      problems.push({ zh: `parameterSigningKey: ${error.textIn('zh')}`, en: `parameterSigningKey: ${error.textIn('en')}` });
    }
  }

  if (config.arrivals.gtfs !== undefined) problems.push(...gtfsFolderProblems(config.arrivals.gtfs));

  for (const [section, tls] of [['mqtt', config.mqtt.tls], ['http', config.http.tls]] as const) {
    if (tls === undefined) continue;
    add(pemProblem(`${section}.tls.cert`, tls.cert, 'certificate'));
    add(pemProblem(`${section}.tls.key`, tls.key, 'private key'));
    if (tls.ca !== undefined) add(pemProblem(`${section}.tls.ca`, tls.ca, 'certificate'));
  }

  if (problems.length > 0) throw new ConfigError(source, problems);
  return checked;
}

/**
 * Describes why the back office cannot create or open the database `db` (config field `db`,
 * option --db), or returns undefined. The folder must exist and be writable, because SQLite
 * writes its journal files and the back office its first administrator password beside the file.
 */
export function databaseFolderProblem(db: string): CatalogueEntry | undefined {
  if (db === ':memory:') return undefined;
  const folder = dirname(resolve(db));
  let isFolder: boolean;
  try {
    isFolder = statSync(folder).isDirectory();
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code;
    if (code === 'ENOENT') return cliTextEntry('cli.db.folderMissing', { folder, db });
    return cliTextEntry('cli.db.folderUnreadable', { folder, db, reason: code ?? (error as Error).message });
  }
  if (!isFolder) return cliTextEntry('cli.db.notFolder', { folder });
  try {
    accessSync(folder, constants.W_OK | constants.X_OK);
  } catch {
    return cliTextEntry('cli.db.folderNotWritable', { folder, db });
  }

  let stats;
  try {
    stats = statSync(db);
  } catch {
    // A missing database file is created at start-up.
    return undefined;
  }
  if (!stats.isFile()) return cliTextEntry('cli.db.notFile', { db });
  try {
    accessSync(db, constants.R_OK | constants.W_OK);
  } catch {
    return cliTextEntry('cli.db.notReadWrite', { db });
  }
  return undefined;
}

/**
 * Describes why a command that only reads the database cannot open `db`, or returns undefined.
 * Such a command must not create an empty database in place of a mistyped path.
 */
export function missingDatabaseProblem(db: string): CatalogueEntry | undefined {
  if (db === ':memory:') return undefined;
  let stats;
  try {
    stats = statSync(db);
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code;
    if (code === 'ENOENT') return cliTextEntry('cli.db.missing', { db: resolve(db) });
    return cliTextEntry('cli.db.unreadable', { db: resolve(db), reason: code ?? (error as Error).message });
  }
  if (!stats.isFile()) return cliTextEntry('cli.db.missingNotFile', { db: resolve(db) });
  return undefined;
}

/** Describes why the file of a config field cannot be read, naming the file by its role, or returns undefined. */
function readableFileProblem(field: string, path: string, role: CliTextId): CatalogueEntry | undefined {
  let isFile: boolean;
  try {
    isFile = statSync(path).isFile();
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code;
    if (code === 'ENOENT') return withRole('cli.paths.fileMissingFor', role, { field, path });
    return withRole('cli.paths.fileUnreadableFor', role, { field, path, reason: code ?? (error as Error).message });
  }
  if (!isFile) return withRole('cli.paths.notFileFor', role, { field, path });
  try {
    accessSync(path, constants.R_OK);
  } catch {
    return withRole('cli.paths.fileNotReadableFor', role, { field, path });
  }
  return undefined;
}

/** Fills a message whose {role} placeholder names a file by its role, in each language. */
function withRole(id: CliTextId, role: CliTextId, params: Record<string, string>): CatalogueEntry {
  return { zh: cliText(id, 'zh', { ...params, role: cliText(role, 'zh') }), en: cliText(id, 'en', { ...params, role: cliText(role, 'en') }) };
}

function gtfsFolderProblems(folder: string): ProblemText[] {
  let isFolder: boolean;
  try {
    isFolder = statSync(folder).isDirectory();
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code;
    if (code === 'ENOENT') return [cliTextEntry('cli.paths.gtfsMissing', { folder })];
    return [cliTextEntry('cli.paths.gtfsUnreadable', { folder, reason: code ?? (error as Error).message })];
  }
  if (!isFolder) return [cliTextEntry('cli.paths.gtfsNotFolder', { folder })];

  // NOTE: the arrival service imports the feed again at start-up, so a large feed is parsed twice.
  try {
    importGtfsFeed(folder);
  } catch (error) {
    if (!(error instanceof GtfsFeedError)) throw error;
    const chinese = error.problemsIn('zh');
    return error.problemsIn('en').map((english, index) => ({
      zh: cliText('cli.paths.gtfsFeedProblem', 'zh', { folder, problem: chinese[index] ?? english }),
      en: cliText('cli.paths.gtfsFeedProblem', 'en', { folder, problem: english }),
    }));
  }
  return [];
}

function pemProblem(field: string, path: string, role: 'certificate' | 'private key'): CatalogueEntry | undefined {
  const fileProblem = readableFileProblem(field, path, role === 'certificate' ? 'cli.paths.role.tlsCertificate' : 'cli.paths.role.tlsPrivateKey');
  if (fileProblem) return fileProblem;
  const pem = readFileSync(path);
  try {
    if (role === 'certificate') new X509Certificate(pem);
    else createPrivateKey(pem);
  } catch {
    // The parser's message is left out because it could quote the private key.
    return withRole('cli.paths.notPem', role === 'certificate' ? 'cli.paths.role.certificate' : 'cli.paths.role.privateKey', { field, path });
  }
  return undefined;
}
