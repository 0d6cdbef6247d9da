import { createPublicKey } from 'node:crypto';
import { accessSync, constants, readFileSync, statSync } from 'node:fs';
import { dirname } from 'node:path';
import { TerminalConfigError, type TerminalConfig } from './terminal-config.js';

/**
 * Checks the folders and files that `busfare-terminal run` opens at start. `dataDir` and the
 * shift database's folder must be writable folders, `parameterPublicKeyFile` must contain an
 * Ed25519 public key in PEM, and a replayed NMEA file must be readable. The serial GNSS device and
 * the reader socket are not checked, because the terminal retries them until they appear.
 * Throws TerminalConfigError with one problem per path, naming the config field, the path and the fix.
 */
export function checkTerminalPaths(config: TerminalConfig, source: string): void {
  const problems: string[] = [];
  const dataDirProblem = writableFolderProblem('dataDir', config.dataDir);
  if (dataDirProblem) problems.push(dataDirProblem);

  const shiftDb = config.driverScreen.shiftDb;
  if (shiftDb !== undefined) {
    const shiftFolderProblem = writableFolderProblem('driverScreen.shiftDb', dirname(shiftDb));
    if (shiftFolderProblem) problems.push(shiftFolderProblem);
  }

  const keyProblem = publicKeyProblem(config.parameterPublicKeyFile);
  if (keyProblem) problems.push(keyProblem);

  if (config.gps?.kind === 'nmea-file') {
    const path = config.gps.path;
    const fileProblem = readableFileProblem(path);
    if (fileProblem) problems.push(`gps.path: ${path} ${fileProblem}, so set gps.path to a readable NMEA recording`);
  }

  if (problems.length > 0) throw new TerminalConfigError(source, problems);
}

/** Describes why `path` is not a folder the terminal can create databases in, or returns undefined. */
function writableFolderProblem(field: string, path: string): string | undefined {
  let isFolder: boolean;
  try {
    isFolder = statSync(path).isDirectory();
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code;
    if (code === 'ENOENT') return `${field}: folder ${path} does not exist, so create it or set ${field} to an existing folder`;
    return `${field}: failed to read folder ${path} (${code ?? (error as Error).message}), so fix its permissions or set ${field} to another folder`;
  }
  if (!isFolder) return `${field}: ${path} is not a folder, so set ${field} to a folder`;

  try {
    accessSync(path, constants.W_OK | constants.X_OK);
  } catch {
    return `${field}: folder ${path} is not writable by this user, so grant write access or set ${field} to a writable folder`;
  }
  return undefined;
}

/** Describes why the parameter-signing key file cannot be used, or returns undefined. */
function publicKeyProblem(path: string): string | undefined {
  const field = 'parameterPublicKeyFile';
  const fileProblem = readableFileProblem(path);
  if (fileProblem) return `${field}: ${path} ${fileProblem}, so copy the back office's parameter-signing public key there or set ${field}`;

  let keyType: string | undefined;
  try {
    keyType = createPublicKey(readFileSync(path)).asymmetricKeyType;
  } catch {
    return `${field}: ${path} is not a PEM public key, so replace it with the back office's Ed25519 parameter-signing public key`;
  }
  if (keyType !== 'ed25519') return `${field}: ${path} contains a key of type ${keyType ?? 'unknown'}, not Ed25519, so replace it with the back office's parameter-signing public key`;
  return undefined;
}

/** Describes why `path` is not a readable file, such as "does not exist", or returns undefined. */
function readableFileProblem(path: string): string | undefined {
  try {
    if (!statSync(path).isFile()) return 'is not a file';
    accessSync(path, constants.R_OK);
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code;
    if (code === 'ENOENT') return 'does not exist';
    if (code === 'EACCES') return 'is not readable by this user';
    return `is unreadable (${code ?? (error as Error).message})`;
  }
  return undefined;
}
