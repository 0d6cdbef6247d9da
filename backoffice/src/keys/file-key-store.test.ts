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

  it('words the same problems in Chinese', () => {
    const path = writeKeyFile('shapes-zh.json', [{ algorithm: 'sm4', tacMasterKeyHex: SECRET, colour: SECRET, [SECRET]: 1 }, 'des', { issuerId: 'XYZ', algorithm: 'aes', tacMasterKeyHex: SECRET }]);

    const problems = keyFileErrorOf(path).problemsIn('zh');
    expect(problems).toContain('第 1 项：缺少 issuerId，请补上，应为 16 位十六进制数字（8 字节的发卡机构标识）');
    expect(problems).toContain('第 1 项：有未知字段（"colour"、疑似密钥内容的字段名）；可用的字段为 issuerId、algorithm、tacMasterKeyHex 和 test');
    expect(problems).toContain('第 2 项应为含 issuerId、algorithm、tacMasterKeyHex 和可选 test 字段的对象');
    expect(problems).toContain('第 3 项：issuerId 应为 16 位十六进制数字（8 字节的发卡机构标识）');
    expect(problems).toContain('第 3 项：algorithm 应为 "des" 或 "sm4"');
    expect(problems).toHaveLength(5);
    expect(problems.join('\n')).not.toContain(SECRET);
  });

  it('words duplicate and test keys in Chinese', () => {
    const entry = { issuerId: '99000001FFFFFFFF', algorithm: 'des', tacMasterKeyHex: SECRET };
    expect(keyFileErrorOf(writeKeyFile('twice-zh.json', [entry, entry])).problemsIn('zh')).toEqual(['第 2 项：发卡机构 99000001FFFFFFFF 的 des 密钥重复']);
    expect(keyFileErrorOf(writeKeyFile('test-zh.json', [{ ...entry, test: true }])).problemsIn('zh')).toEqual([
      '发卡机构 99000001FFFFFFFF 的密钥是测试密钥，只有设置了 security.allowTestKeys 的测试环境才接受',
    ]);
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
    const error = keyFileErrorOf(join(directory, 'absent.json'));
    expect(error.problemsIn('en')[0]).toMatch(/^cannot read the file: no such file; check the path$/);
    expect(error.problemsIn('zh')[0]).toMatch(/^无法读取文件：文件不存在，请检查路径$/);
  });
});
