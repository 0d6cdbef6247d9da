import { createHash, createPrivateKey, createPublicKey, generateKeyPairSync, sign, verify, type KeyObject } from 'node:crypto';
import { canonicalJson, sha256Hex } from '../schemas/canonical-json.js';
import { PARAMETER_SET_SCHEMA } from '../schemas/parameters.js';

export const PARAMETER_SIGNATURE_ALGORITHM = 'ed25519';

/** The fields of a parameter set's `signature`. */
export interface ParameterSignature {
  algorithm: typeof PARAMETER_SIGNATURE_ALGORITHM;
  /** First 16 hex digits of the SHA-256 of the public key's SPKI DER encoding. */
  keyId: string;
  /** Ed25519 signature over the signing payload, base64. */
  value: string;
}

/**
 * The bytes a parameter set's signature covers: the canonical JSON of the whole envelope without
 * its `signature` field. The body and `bodySha256` are inside it, and a packed blacklist's
 * manifest carries the SHA-256 of every chunk, so the signature also covers the chunks.
 */
export function parameterSigningPayload(set: object): Buffer {
  const unsigned: Record<string, unknown> = { ...(set as Record<string, unknown>) };
  delete unsigned.signature;
  return Buffer.from(canonicalJson(unsigned), 'utf8');
}

/** Returns the key id of an Ed25519 public key (or of the public half of a private key). */
export function parameterKeyId(key: KeyObject): string {
  const publicKey = key.type === 'private' ? createPublicKey(key) : key;
  const der = publicKey.export({ type: 'spki', format: 'der' });
  return createHash('sha256').update(der).digest('hex').slice(0, 16);
}

/** Signs a parameter set with the back office's Ed25519 private key; returns the signed copy. */
export function signParameterSet<T extends object>(set: T, privateKey: KeyObject): T & { signature: ParameterSignature } {
  if (privateKey.type !== 'private' || privateKey.asymmetricKeyType !== 'ed25519') {
    throw new TypeError(`parameter sets are signed with an Ed25519 private key, got a ${privateKey.asymmetricKeyType ?? 'symmetric'} ${privateKey.type} key`);
  }
  const value = sign(null, parameterSigningPayload(set), privateKey).toString('base64');
  return { ...set, signature: { algorithm: PARAMETER_SIGNATURE_ALGORITHM, keyId: parameterKeyId(privateKey), value } };
}

/** The parts of a parameter set that its author chooses. */
export interface ParameterSetContent<B> {
  kind: string;
  version: number;
  effectiveFrom: string;
  publishedAt: string;
  body: B;
}

/**
 * Wraps a parameter set's content in its envelope (schema id and the SHA-256 of the body's
 * canonical JSON) and signs it. The back office validates the result before it publishes it.
 */
export function signParameterContent<B>(content: ParameterSetContent<B>, privateKey: KeyObject) {
  const { kind, version, effectiveFrom, publishedAt, body } = content;
  const unsigned = { schema: PARAMETER_SET_SCHEMA, kind, version, effectiveFrom, publishedAt, bodySha256: sha256Hex(canonicalJson(body)), body };
  return signParameterSet(unsigned, privateKey);
}

/**
 * Checks a parameter set's signature against the pinned public key. Returns the problems found,
 * none when the signature is valid. A missing signature, another algorithm, another key id or a
 * signature that does not verify are all problems.
 */
export function verifyParameterSetSignature(set: unknown, publicKey: KeyObject): string[] {
  if (typeof set !== 'object' || set === null) return ['signature: missing, because the set is not an object'];
  const signature = (set as { signature?: unknown }).signature;
  if (signature === undefined) return ['signature: missing; terminals accept only sets signed by the back office'];
  if (typeof signature !== 'object' || signature === null) return ['signature: expected an object with algorithm, keyId and value'];
  const { algorithm, keyId, value } = signature as Record<string, unknown>;
  if (algorithm !== PARAMETER_SIGNATURE_ALGORITHM) return [`signature.algorithm: expected "${PARAMETER_SIGNATURE_ALGORITHM}", got ${JSON.stringify(algorithm)}`];
  const pinnedKeyId = parameterKeyId(publicKey);
  if (keyId !== pinnedKeyId) return [`signature.keyId: signed by key ${JSON.stringify(keyId)}, but this terminal trusts only key "${pinnedKeyId}"`];
  if (typeof value !== 'string' || !/^[A-Za-z0-9+/]{86}==$/.test(value)) return ['signature.value: expected a 64-byte Ed25519 signature in base64'];
  const valid = verify(null, parameterSigningPayload(set), publicKey, Buffer.from(value, 'base64'));
  return valid ? [] : ['signature.value: does not verify against the pinned key; the set was changed after signing or signed by another key'];
}

/** Generates a new Ed25519 key pair for signing parameter sets. */
export function generateParameterSigningKeys(): { privateKey: KeyObject; publicKey: KeyObject } {
  return generateKeyPairSync('ed25519');
}

/** Reads an Ed25519 private key from PEM (PKCS #8). Throws when the text is not one. */
export function parseParameterPrivateKey(pem: string | Buffer): KeyObject {
  const key = createPrivateKey(pem);
  if (key.asymmetricKeyType !== 'ed25519') throw new TypeError(`expected an Ed25519 private key, got ${key.asymmetricKeyType ?? 'an unknown key type'}`);
  return key;
}

/** Reads an Ed25519 public key from PEM (SPKI). Throws when the text is not one. */
export function parseParameterPublicKey(pem: string | Buffer): KeyObject {
  const key = createPublicKey(pem);
  if (key.asymmetricKeyType !== 'ed25519') throw new TypeError(`expected an Ed25519 public key, got ${key.asymmetricKeyType ?? 'an unknown key type'}`);
  return key;
}
