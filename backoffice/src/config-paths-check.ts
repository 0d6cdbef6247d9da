import { X509Certificate, createPrivateKey, type KeyObject } from 'node:crypto';
import { accessSync, constants, readFileSync, statSync } from 'node:fs';
import { dirname, resolve } from 'node:path';
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
  const problems: string[] = [];
  const checked: CheckedFiles = {};
  const add = (problem: string | undefined) => {
    if (problem !== undefined) problems.push(problem);
  };

  add(databaseFolderProblem(config.db));

  if (config.pkcs11 !== undefined) {
    add(readableFileProblem('pkcs11.library', config.pkcs11.library, 'the PKCS#11 module of the HSM'));
    const pin = environment[config.pkcs11.pinVariable];
    if (pin === undefined || pin === '') problems.push(`pkcs11.pinVariable: environment variable ${config.pkcs11.pinVariable} with the HSM user PIN is not set, so set it before starting`);
  } else if (config.keys !== undefined) {
    add(readableFileProblem('keys', config.keys, 'the issuer key file'));
  }

  if (config.parameterSigningKey !== undefined) {
    try {
      checked.parameterSigningKey = loadSigningKey(config.parameterSigningKey);
    } catch (error) {
      if (!(error instanceof SigningKeyError)) throw error;
      problems.push(`parameterSigningKey: ${error.message}`);
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
export function databaseFolderProblem(db: string): string | undefined {
  if (db === ':memory:') return undefined;
  const folder = dirname(resolve(db));
  let isFolder: boolean;
  try {
    isFolder = statSync(folder).isDirectory();
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code;
    if (code === 'ENOENT') return `db: folder ${folder} of the database ${db} does not exist, so create it or set db (--db) to a file in an existing folder`;
    return `db: failed to read folder ${folder} of the database ${db} (${code ?? (error as Error).message}), so fix its permissions or set db (--db) to another file`;
  }
  if (!isFolder) return `db: ${folder} is not a folder, so set db (--db) to a file in an existing folder`;
  try {
    accessSync(folder, constants.W_OK | constants.X_OK);
  } catch {
    return `db: folder ${folder} of the database ${db} is not writable by this user, so grant write access or set db (--db) to a file in a writable folder`;
  }

  let stats;
  try {
    stats = statSync(db);
  } catch {
    // A missing database file is created at start-up.
    return undefined;
  }
  if (!stats.isFile()) return `db: ${db} is not a file, so set db (--db) to an SQLite database file`;
  try {
    accessSync(db, constants.R_OK | constants.W_OK);
  } catch {
    return `db: database ${db} is not readable and writable by this user, so fix its permissions`;
  }
  return undefined;
}

/**
 * Describes why a command that only reads the database cannot open `db`, or returns undefined.
 * Such a command must not create an empty database in place of a mistyped path.
 */
export function missingDatabaseProblem(db: string): string | undefined {
  if (db === ':memory:') return undefined;
  let stats;
  try {
    stats = statSync(db);
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code;
    if (code === 'ENOENT') return `database ${resolve(db)} does not exist, so pass --db FILE (or --config FILE with "db") to name the clearing database`;
    return `failed to read the database ${resolve(db)} (${code ?? (error as Error).message}), so fix its permissions or pass --db FILE`;
  }
  if (!stats.isFile()) return `database ${resolve(db)} is not a file, so pass --db FILE to name the clearing database`;
  return undefined;
}

function readableFileProblem(field: string, path: string, role: string): string | undefined {
  let isFile: boolean;
  try {
    isFile = statSync(path).isFile();
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code;
    if (code === 'ENOENT') return `${field}: ${role} ${path} does not exist, so create it or set ${field} to an existing file`;
    return `${field}: failed to read ${role} ${path} (${code ?? (error as Error).message}), so fix its permissions or set ${field} to another file`;
  }
  if (!isFile) return `${field}: ${path} is not a file, so set ${field} to ${role}`;
  try {
    accessSync(path, constants.R_OK);
  } catch {
    return `${field}: ${role} ${path} is not readable by this user, so fix its permissions`;
  }
  return undefined;
}

function gtfsFolderProblems(folder: string): string[] {
  const field = 'arrivals.gtfs';
  let isFolder: boolean;
  try {
    isFolder = statSync(folder).isDirectory();
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code;
    if (code === 'ENOENT') return [`${field}: GTFS folder ${folder} does not exist, so set ${field} to the folder of the routes' GTFS files or remove it to turn arrival predictions off`];
    return [`${field}: failed to read GTFS folder ${folder} (${code ?? (error as Error).message}), so fix its permissions`];
  }
  if (!isFolder) return [`${field}: ${folder} is not a folder, so set ${field} to the folder of the routes' GTFS files (stops.txt, routes.txt, trips.txt, stop_times.txt)`];

  // NOTE: the arrival service imports the feed again at start-up, so a large feed is parsed twice.
  try {
    importGtfsFeed(folder);
  } catch (error) {
    if (!(error instanceof GtfsFeedError)) throw error;
    return error.problems.map((problem) => `${field}: GTFS folder ${folder}: ${problem}`);
  }
  return [];
}

function pemProblem(field: string, path: string, role: 'certificate' | 'private key'): string | undefined {
  const fileProblem = readableFileProblem(field, path, `the TLS ${role}`);
  if (fileProblem) return fileProblem;
  const pem = readFileSync(path);
  try {
    if (role === 'certificate') new X509Certificate(pem);
    else createPrivateKey(pem);
  } catch {
    // The parser's message is left out because it could quote the private key.
    return `${field}: ${path} is not a PEM ${role}, so set ${field} to a PEM ${role} file`;
  }
  return undefined;
}
