import { createPublicKey } from 'node:crypto';
import { accessSync, constants, readFileSync, statSync } from 'node:fs';
import { dirname } from 'node:path';
import { type CatalogueEntry, type Language, cliText, cliTextEntry } from '@busfare/shared-protocol';
import { TerminalConfigError, type TerminalConfig } from './terminal-config.js';

/**
 * Checks the folders and files that `busfare-terminal run` opens at start. `dataDir` and the
 * shift database's folder must be writable folders, `parameterPublicKeyFile` must contain an
 * Ed25519 public key in PEM, and a replayed NMEA file must be readable. The serial GNSS device and
 * the reader socket are not checked, because the terminal retries them until they appear.
 * Throws TerminalConfigError with one problem per path, naming the config field, the path and the fix.
 */
export function checkTerminalPaths(config: TerminalConfig, source: string): void {
  const problems: CatalogueEntry[] = [];
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
    if (fileProblem) problems.push(inBothLanguages((language) => cliText('cli.paths.nmeaFile', language, { path, problem: fileProblem(language) })));
  }

  if (problems.length > 0) throw new TerminalConfigError(source, problems);
}

/** Describes why `path` is not a folder the terminal can create databases in, or returns undefined. */
function writableFolderProblem(field: string, path: string): CatalogueEntry | undefined {
  let isFolder: boolean;
  try {
    isFolder = statSync(path).isDirectory();
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code;
    if (code === 'ENOENT') return cliTextEntry('cli.paths.folderMissing', { field, path });
    return cliTextEntry('cli.paths.folderUnreadable', { field, path, reason: code ?? (error as Error).message });
  }
  if (!isFolder) return cliTextEntry('cli.paths.notFolder', { field, path });

  try {
    accessSync(path, constants.W_OK | constants.X_OK);
  } catch {
    return cliTextEntry('cli.paths.folderNotWritable', { field, path });
  }
  return undefined;
}

/** Describes why the parameter-signing key file cannot be used, or returns undefined. */
function publicKeyProblem(path: string): CatalogueEntry | undefined {
  const fileProblem = readableFileProblem(path);
  if (fileProblem) return inBothLanguages((language) => cliText('cli.paths.publicKeyFile', language, { path, problem: fileProblem(language) }));

  let keyType: string | undefined;
  try {
    keyType = createPublicKey(readFileSync(path)).asymmetricKeyType;
  } catch {
    return cliTextEntry('cli.paths.publicKeyNotPem', { path });
  }
  if (keyType !== 'ed25519') return cliTextEntry('cli.paths.publicKeyType', { path, type: keyType ?? 'unknown' });
  return undefined;
}

/**
 * Describes why `path` is not a readable file as the end of a sentence about the path, such as
 * "does not exist", in the language it is given, or returns undefined.
 */
function readableFileProblem(path: string): ((language: Language) => string) | undefined {
  try {
    if (!statSync(path).isFile()) return (language) => cliText('cli.paths.notFile', language);
    accessSync(path, constants.R_OK);
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code;
    if (code === 'ENOENT') return (language) => cliText('cli.paths.fileMissing', language);
    if (code === 'EACCES') return (language) => cliText('cli.paths.fileNotReadable', language);
    return (language) => cliText('cli.paths.fileUnreadable', language, { reason: code ?? (error as Error).message });
  }
  return undefined;
}

function inBothLanguages(text: (language: Language) => string): CatalogueEntry {
  return { zh: text('zh'), en: text('en') };
}
