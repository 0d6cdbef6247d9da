import { chmodSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { toHex } from '@busfare/shared-protocol';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createLogger } from '../logger.js';
import { KeyFileError, loadKeyFile } from './file-key-store.js';

const SECRET = '0123456789ABCDEF0123456789ABCDEF';
let directory: string;

beforeAll(() => {
  directory = mkdtempSync(join(tmpdir(), 'busfare-keys-'));
});

afterAll(() => {
  rmSync(directory, { recursive: true, force: true });
});

function writeKeyFile(name: string, content: unknown, mode = 0o600): string {
  const path = join(directory, name);
  writeFileSync(path, typeof content === 'string' ? content : JSON.stringify(content));
  chmodSync(path, mode);
  return path;
}

/** Creates a logger that records every info and warn line, to check warnings and leaked keys. */
function recordingLogger(): { logger: ReturnType<typeof createLogger>; lines: string[] } {
  const lines: string[] = [];
  const logger = createLogger('test', 'info');
  const wrap = (level: 'info' | 'warn') => (object: unknown, message?: string) => lines.push(`${level} ${JSON.stringify(object)} ${message ?? ''}`);
  return { logger: Object.assign(Object.create(logger), { info: wrap('info'), warn: wrap('warn') }), lines };
}

/** Loads the key file and returns the KeyFileError it must raise. */
function keyFileErrorOf(path: string): KeyFileError {
  try {
    loadKeyFile(path, recordingLogger().logger);
  } catch (error) {
    if (error instanceof KeyFileError) return error;
    throw error;
  }
  throw new Error(`expected a KeyFileError for ${path}`);
}

describe('key file', () => {
  it('loads keys by issuer and algorithm', () => {
    const path = writeKeyFile('keys.json', [{ issuerId: '99000001ffffffff', algorithm: 'des', tacMasterKeyHex: SECRET, test: true }]);
    const { logger } = recordingLogger();

    const store = loadKeyFile(path, logger, { allowTestKeys: true });

    expect(toHex(store.tacMasterKey('99000001FFFFFFFF', 'des') ?? new Uint8Array())).toBe(SECRET);
    expect(store.tacMasterKey('99000001FFFFFFFF', 'sm4')).toBeUndefined();
    expect(store.holdsIssuer('99000001FFFFFFFF')).toBe(true);
    expect(store.issuerIds()).toEqual(['99000001FFFFFFFF']);
  });

  it('warns about a group-readable key file without logging keys', () => {
    const path = writeKeyFile('open.json', [{ issuerId: '99000001FFFFFFFF', algorithm: 'sm4', tacMasterKeyHex: SECRET }], 0o644);
    const { logger, lines } = recordingLogger();

    loadKeyFile(path, logger);

    expect(lines.some((line) => line.startsWith('warn') && line.includes('chmod 600'))).toBe(true);
    expect(lines.join('\n')).not.toContain(SECRET);
  });

  it('lists every invalid entry without key material', () => {
    const path = writeKeyFile('bad.json', [
      { issuerId: 'XYZ', algorithm: 'des', tacMasterKeyHex: SECRET },
      { issuerId: '99000001FFFFFFFF', algorithm: 'aes', tacMasterKeyHex: `${SECRET}00` },
    ]);

    const error = keyFileErrorOf(path);
    const problems = error.problems;
    expect(problems).toEqual([
      'entry 1: issuerId must be 16 hex digits (the 8-byte issuer id)',
      'entry 2: algorithm must be "des" or "sm4"',
      'entry 2: tacMasterKeyHex must be 32 hex digits (the 16-byte TAC master key)',
    ]);
    expect(error.message).not.toContain(SECRET);
  });

  it('words missing, unknown and mistyped fields', () => {
    const path = writeKeyFile('shapes.json', [{ algorithm: 'sm4', tacMasterKeyHex: SECRET, test: 'yes', colour: SECRET, [SECRET]: 1 }, 'des', { issuerId: 42, algorithm: 'des', tacMasterKeyHex: SECRET }]);

    const error = keyFileErrorOf(path);
    const problems = error.problems;
    expect(problems).toContain('entry 1: issuerId is missing, so add it as 16 hex digits (the 8-byte issuer id)');
    expect(problems).toContain('entry 1: test must be true or false');
    expect(problems).toContain('entry 1: unknown field(s) "colour", (a name that looks like key material); the fields are issuerId, algorithm, tacMasterKeyHex and test');
    expect(problems).toContain('entry 2 must be an object {issuerId, algorithm, tacMasterKeyHex, test?}');
    expect(problems).toContain('entry 3: issuerId must be 16 hex digits (the 8-byte issuer id)');
    expect(problems).toHaveLength(5);
    expect(error.message).not.toContain(SECRET);
  });

  it('rejects a key file that is not an array', () => {
    const path = writeKeyFile('object.json', { issuerId: '99000001FFFFFFFF', algorithm: 'des', tacMasterKeyHex: SECRET });

    expect(() => loadKeyFile(path, recordingLogger().logger)).toThrow('the file must contain a JSON array of entries {issuerId, algorithm, tacMasterKeyHex, test?}');
  });

  it('rejects a second key for the same issuer and algorithm', () => {
    const entry = { issuerId: '99000001FFFFFFFF', algorithm: 'des', tacMasterKeyHex: SECRET };
    const path = writeKeyFile('twice.json', [entry, entry]);

    expect(() => loadKeyFile(path, recordingLogger().logger)).toThrow('entry 2: second des key for issuer 99000001FFFFFFFF');
  });

  it('rejects a key file that is not JSON without quoting it', () => {
    const path = writeKeyFile('broken.json', `[{"tacMasterKeyHex": "${SECRET}"`);

    expect(() => loadKeyFile(path, recordingLogger().logger)).toThrow(/not valid JSON \(syntax error\)/);
  });

  it('rejects test keys outside a bench', () => {
    const path = writeKeyFile('test-keys.json', [{ issuerId: '99000001FFFFFFFF', algorithm: 'des', tacMasterKeyHex: SECRET, test: true }]);

    expect(() => loadKeyFile(path, recordingLogger().logger)).toThrow(/test keys of issuers 99000001FFFFFFFF are accepted only on a bench/);
    expect(() => loadKeyFile(path, recordingLogger().logger, { allowTestKeys: false })).toThrow(KeyFileError);
  });

  it('rejects a missing key file', () => {
    expect(() => loadKeyFile(join(directory, 'absent.json'), recordingLogger().logger)).toThrow(KeyFileError);
  });
});
