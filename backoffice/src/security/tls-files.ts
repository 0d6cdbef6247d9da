import { readFileSync } from 'node:fs';

/** Paths of PEM files as the config names them. */
export interface TlsFiles {
  cert: string;
  key: string;
  ca?: string | undefined;
}

/** PEM contents read from TlsFiles. */
export interface TlsMaterial {
  cert: Buffer;
  key: Buffer;
  ca?: Buffer;
}

export class TlsFileError extends Error {
  constructor(
    readonly path: string,
    readonly role: 'certificate' | 'private key' | 'CA certificate',
    cause: unknown,
  ) {
    // The message names the file only: a parser's message could quote a private key.
    super(`cannot read the TLS ${role} ${path}: ${cause instanceof Error && 'code' in cause ? String(cause.code) : 'read failed'}`);
    this.name = 'TlsFileError';
  }
}

/** Reads the certificate, key and optional CA of a TLS listener or client. */
export function readTlsFiles(files: TlsFiles): TlsMaterial {
  const material: TlsMaterial = { cert: readPem(files.cert, 'certificate'), key: readPem(files.key, 'private key') };
  if (files.ca !== undefined) material.ca = readPem(files.ca, 'CA certificate');
  return material;
}

/** Reads a CA bundle that a client pins in place of the system trust store. */
export function readCaFile(path: string): Buffer {
  return readPem(path, 'CA certificate');
}

function readPem(path: string, role: TlsFileError['role']): Buffer {
  try {
    return readFileSync(path);
  } catch (error) {
    throw new TlsFileError(path, role, error);
  }
}
