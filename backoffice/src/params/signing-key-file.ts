import type { KeyObject } from 'node:crypto';
import { chmodSync, existsSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { dirname, resolve } from 'node:path';
import { type CatalogueEntry, TranslatedError, catalogueEntryFrom, cliText, cliTextEntry, fileErrorText, generateParameterSigningKeys, parameterKeyId, parseParameterPrivateKey } from '@busfare/shared-protocol';

/** The signing key file is missing, readable by others, or not an Ed25519 private key. */
export class SigningKeyError extends TranslatedError {
  constructor(
    readonly path: string,
    text: CatalogueEntry,
  ) {
    super(text);
    this.name = 'SigningKeyError';
  }
}

/**
 * Generates a parameter-signing key pair: the private key (PKCS #8 PEM) to `privatePath` with
 * mode 0600, the public key (SPKI PEM) that terminals pin to `publicPath`. Refuses to overwrite
 * an existing file, because terminals pinned to the old key would reject every new set.
 * Both folders and both paths are checked before either file is written, and the private key is
 * removed again when the public key cannot be created, so a failure leaves no half pair.
 */
export function writeSigningKeyPair(privatePath: string, publicPath: string): { keyId: string } {
  if (resolve(privatePath) === resolve(publicPath)) throw new SigningKeyError(publicPath, cliTextEntry('cli.signingKey.samePath', { path: publicPath }));
  for (const path of [privatePath, publicPath]) {
    const folder = dirname(resolve(path));
    if (!existsSync(folder)) throw new SigningKeyError(path, cliTextEntry('cli.signingKey.folderMissing', { path, folder }));
    if (existsSync(path)) throw new SigningKeyError(path, cliTextEntry('cli.signingKey.exists', { path }));
  }
  const { privateKey, publicKey } = generateParameterSigningKeys();
  writeKeyFile(privatePath, privateKey.export({ type: 'pkcs8', format: 'pem' }), 0o600);
  chmodSync(privatePath, 0o600);
  try {
    writeKeyFile(publicPath, publicKey.export({ type: 'spki', format: 'pem' }), 0o644);
  } catch (error) {
    // A private key without its public key is a half pair, and it would block the next keygen.
    rmSync(privatePath, { force: true });
    throw error;
  }
  return { keyId: parameterKeyId(publicKey) };
}

/** Creates a key file that must not exist yet (flag wx), and words a failure in both languages. */
function writeKeyFile(path: string, pem: string | Buffer, mode: number): void {
  try {
    writeFileSync(path, pem, { mode, flag: 'wx' });
  } catch (error) {
    // Another process can create the file between the check above and this write.
    if ((error as NodeJS.ErrnoException).code === 'EEXIST') throw new SigningKeyError(path, cliTextEntry('cli.signingKey.exists', { path }));
    throw new SigningKeyError(path, catalogueEntryFrom((language) => cliText('cli.signingKey.cannotCreate', language, { path, message: fileErrorText(error, language) })));
  }
}

/**
 * Reads the back office's parameter-signing private key. The file must be readable by its owner
 * only (mode 0600 or stricter), because whoever reads it can publish fare tables and blacklists.
 */
export function loadSigningKey(path: string): KeyObject {
  let mode: number;
  try {
    mode = statSync(path).mode;
  } catch (error) {
    throw new SigningKeyError(path, catalogueEntryFrom((language) => cliText('cli.signingKey.unreadable', language, { path, message: fileErrorText(error, language) })));
  }
  if ((mode & 0o077) !== 0) throw new SigningKeyError(path, cliTextEntry('cli.signingKey.tooOpen', { path, mode: (mode & 0o777).toString(8).padStart(4, '0') }));
  try {
    return parseParameterPrivateKey(readFileSync(path));
  } catch (error) {
    throw new SigningKeyError(path, cliTextEntry('cli.signingKey.invalid', { path, message: (error as Error).message }));
  }
}
