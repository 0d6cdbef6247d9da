import type { KeyObject } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { parseParameterPublicKey } from '@busfare/shared-protocol';

/**
 * Reads the back office's parameter-signing public key (Ed25519, SPKI PEM) from the provisioning
 * file. Throws an Error that names the file when it is missing or holds no Ed25519 public key.
 */
export function loadPinnedParameterKey(path: string): KeyObject {
  let pem: string;
  try {
    pem = readFileSync(path, 'utf8');
  } catch (error) {
    throw new Error(`cannot read the pinned parameter key ${path}: ${(error as Error).message}`, { cause: error });
  }
  try {
    return parseParameterPublicKey(pem);
  } catch (error) {
    throw new Error(`invalid pinned parameter key ${path}: ${(error as Error).message}; expected an Ed25519 public key in PEM (SPKI)`, { cause: error });
  }
}
