import { readFileSync, statSync } from 'node:fs';
import { fromHex } from '@busfare/shared-protocol';
import { z } from 'zod';
import type { Logger } from '../logger.js';
import { type IssuerKeyEntry, MemoryKeyStore } from './key-store.js';

/** Valid values of each entry field, as error messages state them. */
const FIELD_VALUES: Record<string, string> = {
  issuerId: '16 hex digits (the 8-byte issuer id)',
  algorithm: '"des" or "sm4"',
  tacMasterKeyHex: '32 hex digits (the 16-byte TAC master key)',
  test: 'true or false',
};

/** One entry of the key file. The key itself is 16 bytes as 32 hex digits. */
const keyFileEntrySchema = z.strictObject({
  issuerId: z.string().regex(/^[0-9A-Fa-f]{16}$/, 'issuer id must be 8 bytes as 16 hex digits'),
  algorithm: z.enum(['des', 'sm4']),
  tacMasterKeyHex: z.string().regex(/^[0-9A-Fa-f]{32}$/, 'TAC master key must be 16 bytes as 32 hex digits'),
  test: z.boolean().optional(),
});

export const keyFileSchema = z.array(keyFileEntrySchema);

export class KeyFileError extends Error {
  constructor(
    readonly path: string,
    readonly problems: string[],
  ) {
    super(`invalid key file ${path}: ${problems.join('; ')}`);
    this.name = 'KeyFileError';
  }
}

/**
 * Loads issuer TAC master keys from a JSON file of `{ issuerId, algorithm, tacMasterKeyHex, test? }`.
 * Warns when the file is readable by group or others. Entries marked `test` are rejected unless
 * `allowTestKeys` is set (a bench). Error messages name the entry and field but never contain key
 * material.
 */
export function loadKeyFile(path: string, logger: Logger, options: { allowTestKeys?: boolean } = {}): MemoryKeyStore {
  let mode: number;
  let text: string;
  try {
    mode = statSync(path).mode;
    text = readFileSync(path, 'utf8');
  } catch (error) {
    throw new KeyFileError(path, [`cannot read the file: ${error instanceof Error ? error.message : String(error)}`]);
  }
  if ((mode & 0o077) !== 0) {
    logger.warn({ path, mode: (mode & 0o777).toString(8) }, 'key file is readable or writable by group or others; run chmod 600 on it');
  }

  let parsed: unknown;
  try {
    parsed = JSON.parse(text);
  } catch (error) {
    // The parser's message can quote the file's text, which may contain a key.
    throw new KeyFileError(path, [`not valid JSON (${error instanceof SyntaxError ? 'syntax error' : String(error)})`]);
  }

  const result = keyFileSchema.safeParse(parsed);
  if (!result.success) {
    throw new KeyFileError(path, describeKeyFileIssues(result.error));
  }

  const entries: IssuerKeyEntry[] = result.data.map((entry) => ({
    issuerId: entry.issuerId.toUpperCase(),
    algorithm: entry.algorithm,
    tacMasterKey: fromHex(entry.tacMasterKeyHex),
    test: entry.test ?? false,
  }));
  const duplicates = findDuplicateEntries(entries);
  if (duplicates.length > 0) throw new KeyFileError(path, duplicates);

  const testIssuers = entries.filter((entry) => entry.test).map((entry) => entry.issuerId);
  if (testIssuers.length > 0 && options.allowTestKeys !== true) {
    throw new KeyFileError(path, [`test keys of issuers ${testIssuers.join(', ')} are accepted only on a bench (security.allowTestKeys)`]);
  }
  if (testIssuers.length > 0) logger.warn({ issuers: testIssuers }, 'test TAC keys loaded: records of these issuers are bench data');
  logger.info({ path, issuers: entries.length }, 'issuer TAC keys loaded');
  return new MemoryKeyStore(entries);
}

function findDuplicateEntries(entries: readonly IssuerKeyEntry[]): string[] {
  const seen = new Set<string>();
  const problems: string[] = [];
  entries.forEach((entry, index) => {
    const key = `${entry.issuerId}/${entry.algorithm}`;
    if (seen.has(key)) problems.push(`entry ${index + 1}: second ${entry.algorithm} key for issuer ${entry.issuerId}`);
    seen.add(key);
  });
  return problems;
}

/**
 * Words each schema issue as "entry N: field must be ...", numbering entries from 1. The
 * messages name fields only, never values, because a value may be key material.
 */
function describeKeyFileIssues(error: z.ZodError): string[] {
  return error.issues.map((issue) => {
    const [index, field] = issue.path;
    if (typeof index !== 'number') return 'the file must contain a JSON array of entries {issuerId, algorithm, tacMasterKeyHex, test?}';
    const entry = `entry ${index + 1}`;
    if (issue.code === 'unrecognized_keys') {
      // A field name of 16 or more hex digits may be a key pasted in the wrong place, so it is not shown.
      const names = issue.keys.map((key) => (/[0-9A-Fa-f]{16}/.test(key) ? '(a name that looks like key material)' : JSON.stringify(key)));
      return `${entry}: unknown field(s) ${names.join(', ')}; the fields are issuerId, algorithm, tacMasterKeyHex and test`;
    }
    if (typeof field !== 'string') return `${entry} must be an object {issuerId, algorithm, tacMasterKeyHex, test?}`;
    const values = FIELD_VALUES[field];
    if (values === undefined) return `${entry}: ${field} is invalid`;
    if (issue.code === 'invalid_type' && issue.message.endsWith('received undefined')) return `${entry}: ${field} is missing, so add it as ${values}`;
    return `${entry}: ${field} must be ${values}`;
  });
}
