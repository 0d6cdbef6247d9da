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

    let error: unknown;
    try {
      loadKeyFile(path, recordingLogger().logger);
    } catch (caught) {
      error = caught;
    }

    expect(error).toBeInstanceOf(KeyFileError);
    const problems = (error as KeyFileError).problems;
    expect(problems).toContain('0.issuerId: issuer id must be 8 bytes as 16 hex digits');
    expect(problems.some((problem) => problem.startsWith('1.algorithm: '))).toBe(true);
    expect(problems).toContain('1.tacMasterKeyHex: TAC master key must be 16 bytes as 32 hex digits');
    expect((error as Error).message).not.toContain(SECRET);
  });

  it('rejects a second key for the same issuer and algorithm', () => {
    const entry = { issuerId: '99000001FFFFFFFF', algorithm: 'des', tacMasterKeyHex: SECRET };
    const path = writeKeyFile('twice.json', [entry, entry]);

    expect(() => loadKeyFile(path, recordingLogger().logger)).toThrow(/second des key for issuer 99000001FFFFFFFF/);
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
