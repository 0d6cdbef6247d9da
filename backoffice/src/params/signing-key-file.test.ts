import { existsSync, mkdtempSync, readdirSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { SigningKeyError, writeSigningKeyPair } from './signing-key-file.js';

describe('writeSigningKeyPair', () => {
  let dir: string;
  beforeEach(() => {
    dir = mkdtempSync(join(tmpdir(), 'busfare-keygen-'));
  });
  afterEach(() => {
    rmSync(dir, { recursive: true, force: true });
  });

  it('writes both files, private key 0600', () => {
    writeSigningKeyPair(join(dir, 'params.key'), join(dir, 'params.pub'));
    expect(statSync(join(dir, 'params.key')).mode & 0o777).toBe(0o600);
    expect(existsSync(join(dir, 'params.pub'))).toBe(true);
  });

  it('rejects an existing public key only', () => {
    writeFileSync(join(dir, 'params.pub'), 'old');
    expect(() => writeSigningKeyPair(join(dir, 'params.key'), join(dir, 'params.pub'))).toThrow(SigningKeyError);
    expect(readdirSync(dir)).toEqual(['params.pub']);
  });

  it('rejects a folder as a key path', () => {
    expect(() => writeSigningKeyPair(dir, join(dir, 'params.pub'))).toThrow(SigningKeyError);
    expect(readdirSync(dir)).toEqual([]);
  });

  it('leaves no private key when the public write fails', () => {
    writeFileSync(join(dir, 'plain-file'), '');
    // The public key's parent is a file, so creating it fails with ENOTDIR after the private key exists.
    expect(() => writeSigningKeyPair(join(dir, 'params.key'), join(dir, 'plain-file', 'params.pub'))).toThrow(SigningKeyError);
    expect(readdirSync(dir)).toEqual(['plain-file']);
  });

  it('rejects one path for both keys', () => {
    const path = join(dir, 'params.key');
    expect(() => writeSigningKeyPair(path, path)).toThrow(SigningKeyError);
    expect(readdirSync(dir)).toEqual([]);
  });
});
