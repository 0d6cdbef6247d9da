import type { KeyObject } from 'node:crypto';
import { chmodSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import { generateParameterSigningKeys, parameterKeyId, parseParameterPrivateKey } from '@busfare/shared-protocol';

/** The signing key file is missing, readable by others, or not an Ed25519 private key. */
export class SigningKeyError extends Error {
  constructor(
    readonly path: string,
    message: string,
  ) {
    super(`parameter signing key ${path}: ${message}`);
    this.name = 'SigningKeyError';
  }
}

/**
 * Generates a parameter-signing key pair: the private key (PKCS #8 PEM) to `privatePath` with
 * mode 0600, the public key (SPKI PEM) that terminals pin to `publicPath`. Refuses to overwrite
 * an existing file, because terminals pinned to the old key would reject every new set.
 */
export function writeSigningKeyPair(privatePath: string, publicPath: string): { keyId: string } {
  const { privateKey, publicKey } = generateParameterSigningKeys();
  try {
    writeFileSync(privatePath, privateKey.export({ type: 'pkcs8', format: 'pem' }), { mode: 0o600, flag: 'wx' });
  } catch (error) {
    throw new SigningKeyError(privatePath, `cannot create the file: ${(error as Error).message}`);
  }
  chmodSync(privatePath, 0o600);
  try {
    writeFileSync(publicPath, publicKey.export({ type: 'spki', format: 'pem' }), { mode: 0o644, flag: 'wx' });
  } catch (error) {
    throw new SigningKeyError(publicPath, `cannot create the file: ${(error as Error).message}`);
  }
  return { keyId: parameterKeyId(publicKey) };
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
    throw new SigningKeyError(path, `cannot read the file: ${(error as Error).message}; create one with "busfare-backoffice params keygen"`);
  }
  if ((mode & 0o077) !== 0) throw new SigningKeyError(path, `mode ${(mode & 0o777).toString(8).padStart(4, '0')} lets other users read it; run "chmod 600 ${path}"`);
  try {
    return parseParameterPrivateKey(readFileSync(path));
  } catch (error) {
    throw new SigningKeyError(path, `${(error as Error).message}; expected an Ed25519 private key in PEM (PKCS #8)`);
  }
}
