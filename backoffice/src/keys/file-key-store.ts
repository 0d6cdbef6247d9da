import { readFileSync, statSync } from 'node:fs';
import {
  type CatalogueEntry,
  type Language,
  type ProblemText,
  type ValidationTextId,
  catalogueEntryFrom,
  fileErrorEntry,
  fromHex,
  problemTextsIn,
  validationText,
  validationTextEntry,
} from '@busfare/shared-protocol';
import { z } from 'zod';
import type { Logger } from '../logger.js';
import { type IssuerKeyEntry, MemoryKeyStore } from './key-store.js';

/** Catalogue texts of the valid values of each entry field, as error messages state them. */
const FIELD_VALUES: Record<string, ValidationTextId> = {
  issuerId: 'validation.keyFile.values.issuerId',
  algorithm: 'validation.keyFile.values.algorithm',
  tacMasterKeyHex: 'validation.keyFile.values.tacMasterKeyHex',
  test: 'validation.keyFile.values.test',
};

/** One entry of the key file. The key itself is 16 bytes as 32 hex digits. */
const keyFileEntrySchema = z.strictObject({
  issuerId: z.string().regex(/^[0-9A-Fa-f]{16}$/, 'issuer id must be 8 bytes as 16 hex digits'),
  algorithm: z.enum(['des', 'sm4']),
  tacMasterKeyHex: z.string().regex(/^[0-9A-Fa-f]{32}$/, 'TAC master key must be 16 bytes as 32 hex digits'),
  test: z.boolean().optional(),
});

export const keyFileSchema = z.array(keyFileEntrySchema);

/** A key file that cannot be loaded, with every problem found in it. */
export class KeyFileError extends Error {
  /** The problems in English, as the message and logs print them. */
  readonly problems: string[];

  constructor(
    readonly path: string,
    private readonly problemTexts: readonly ProblemText[],
  ) {
    const problems = problemTextsIn(problemTexts, 'en');
    super(`invalid key file ${path}: ${problems.join('; ')}`);
    this.name = 'KeyFileError';
    this.problems = problems;
  }

  /** Returns the problems in the language, for a person reading the command's output. */
  problemsIn(language: Language): string[] {
    return problemTextsIn(this.problemTexts, language);
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
    throw new KeyFileError(path, [fileErrorEntry('cli.fileUnreadable', error)]);
  }
  if ((mode & 0o077) !== 0) {
    logger.warn({ path, mode: (mode & 0o777).toString(8) }, 'key file is readable or writable by group or others; run chmod 600 on it');
  }

  let parsed: unknown;
  try {
    parsed = JSON.parse(text);
  } catch (error) {
    // The parser's message can quote the file's text, which may contain a key.
    const reason = (language: Language) => (error instanceof SyntaxError ? validationText('validation.keyFile.syntaxError', language) : String(error));
    throw new KeyFileError(path, [catalogueEntryFrom((language) => validationText('validation.keyFile.notJson', language, { reason: reason(language) }))]);
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
    throw new KeyFileError(path, [validationTextEntry('validation.keyFile.testKeys', { issuers: testIssuers.join(', ') })]);
  }
  if (testIssuers.length > 0) logger.warn({ issuers: testIssuers }, 'test TAC keys loaded: records of these issuers are bench data');
  logger.info({ path, issuers: entries.length }, 'issuer TAC keys loaded');
  return new MemoryKeyStore(entries);
}

function findDuplicateEntries(entries: readonly IssuerKeyEntry[]): CatalogueEntry[] {
  const seen = new Set<string>();
  const problems: CatalogueEntry[] = [];
  entries.forEach((entry, index) => {
    const key = `${entry.issuerId}/${entry.algorithm}`;
    if (seen.has(key)) problems.push(validationTextEntry('validation.keyFile.duplicate', { entry: index + 1, algorithm: entry.algorithm, issuer: entry.issuerId }));
    seen.add(key);
  });
  return problems;
}

/**
 * Words each schema issue as "entry N: field must be ...", numbering entries from 1. The
 * messages name fields only, never values, because a value may be key material.
 */
function describeKeyFileIssues(error: z.ZodError): CatalogueEntry[] {
  return error.issues.map((issue) => {
    const [index, field] = issue.path;
    if (typeof index !== 'number') return validationTextEntry('validation.keyFile.notArray');
    const entry = index + 1;
    if (issue.code === 'unrecognized_keys') {
      const keys = issue.keys;
      return catalogueEntryFrom((language) => validationText('validation.keyFile.unknownFields', language, { entry, names: fieldNameList(keys, language) }));
    }
    if (typeof field !== 'string') return validationTextEntry('validation.keyFile.entryNotObject', { entry });
    const values = FIELD_VALUES[field];
    if (values === undefined) return validationTextEntry('validation.keyFile.fieldInvalid', { entry, field });
    const id = issue.code === 'invalid_type' && issue.message.endsWith('received undefined') ? 'validation.keyFile.fieldMissing' : 'validation.keyFile.fieldValues';
    return catalogueEntryFrom((language) => validationText(id, language, { entry, field, values: validationText(values, language) }));
  });
}

/** Quotes unknown field names for a message, joined as the language lists them. */
function fieldNameList(keys: readonly string[], language: Language): string {
  // A field name of 16 or more hex digits may be a key pasted in the wrong place, so it is not shown.
  const names = keys.map((key) => (/[0-9A-Fa-f]{16}/.test(key) ? validationText('validation.keyFile.hiddenFieldName', language) : JSON.stringify(key)));
  return names.join(language === 'zh' ? '、' : ', ');
}
