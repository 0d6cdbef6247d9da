import { describe, expect, it } from 'vitest';
import { CLI_HELP, CLI_TEXT, type CatalogueEntry, RIDER_PROMPTS, UI_TEXT, VALIDATION_TEXT } from './catalogue.js';

const TABLES: Record<string, Record<string, CatalogueEntry>> = { RIDER_PROMPTS, UI_TEXT, CLI_HELP, CLI_TEXT, VALIDATION_TEXT };
const ENTRIES = Object.entries(TABLES).flatMap(([table, entries]) => Object.entries(entries).map(([id, entry]) => [`${table} ${id}`, entry] as const));

function placeholdersOf(text: string): string[] {
  return [...new Set(text.match(/\{\w+\}/g) ?? [])].sort();
}

describe('message catalogue', () => {
  it.each(ENTRIES)('%s has both languages', (_id, entry) => {
    expect(entry.zh.trim()).not.toBe('');
    expect(entry.en.trim()).not.toBe('');
  });

  it.each(ENTRIES)('%s has the same placeholders in both languages', (_id, entry) => {
    expect(placeholdersOf(entry.zh)).toEqual(placeholdersOf(entry.en));
  });
});

/** Checks that a Chinese text is Chinese and uses full-width punctuation between its words. */
function expectChineseWithFullWidthPunctuation(zh: string): void {
  expect(zh).toMatch(/[\u4e00-\u9fff]/);
  // ASCII punctuation inside a value such as "::1", "mqtt://" or "HH:MM" is part of that value.
  // A leading field path such as "body.baseVersion: " is a name in the file, written as the file has it.
  const text = zh.replace(/^(\{field\}|[\w.]+): /, '').replace(/\{\w+\}/g, '');
  expect(text).not.toMatch(/[,:;()](?=\s|$)/);
  expect(text).not.toMatch(/[\u4e00-\u9fff][,:;()]|[,:;()][\u4e00-\u9fff]/);
}

describe('VALIDATION_TEXT', () => {
  // Type and format names such as "URL" read the same in both languages.
  const prose = Object.entries(VALIDATION_TEXT).filter(([id]) => !id.startsWith('validation.format.') && !id.startsWith('validation.type.'));

  it.each(prose)('%s is Chinese with full-width punctuation', (_id, entry) => {
    expectChineseWithFullWidthPunctuation(entry.zh);
  });
});

describe('CLI_TEXT', () => {
  // The read-card, HSM and arrivals-eval texts and the GTFS lines of a config check.
  const prefixes = ['cli.readCard.', 'cli.hsm.', 'cli.arrivals.', 'cli.paths.gtfs', 'cli.keyFileInvalid'];
  const checked = Object.entries(CLI_TEXT).filter(([id]) => prefixes.some((prefix) => id.startsWith(prefix)));

  it.each(checked)('%s is Chinese with full-width punctuation', (_id, entry) => {
    expectChineseWithFullWidthPunctuation(entry.zh);
  });
});
