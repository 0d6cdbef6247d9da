import { z } from 'zod';
import { CLI_TEXT, type CatalogueEntry, type Language, UI_TEXT, VALIDATION_TEXT, type ValidationTextId, validationText } from './catalogue.js';

type Issue = z.core.$ZodIssue;

/** Zod's English message for an issue. A message that differs from it was set by the schema. */
const zodEnglishMessage = z.locales.en().localeError;

/** Zod's wording of a type mismatch, the one default message that names the input's type. */
const ZOD_INVALID_TYPE = /^Invalid input: expected (\S+), received (\S+)$/;

/** Catalogue entries by their English and by their Chinese text, built on first use. */
let catalogueByText: Map<string, CatalogueEntry> | undefined;

/**
 * Describes one zod issue in the language, without its path. A message that is a catalogue text
 * prints in the language. Zod's own English messages are replaced by the catalogue's wording of the
 * issue code. Any other message was written by the schema in English, so English output keeps it.
 * Chinese output then words the issue code instead, or for a refinement shows the message in brackets.
 */
export function zodIssueText(issue: Issue, language: Language): string {
  const entry = catalogueEntryOf(issue.message);
  if (entry) return entry[language];
  const fromZod = isZodMessage(issue);
  if (!fromZod && language === 'en') return issue.message;
  if (issue.code === 'custom') return fromZod ? validationText('validation.invalid', language) : validationText('validation.invalidWithReason', language, { reason: issue.message });
  return textOfCode(issue, language);
}

/** Options of zodIssueLines. */
export interface ZodIssueLineOptions {
  /** Path segments printed before each issue's own path, such as ["body"] for a parameter set's body. */
  pathPrefix?: readonly PropertyKey[];
  /** Name printed in place of an empty path; "(root)" unless set. */
  rootName?: string;
}

/**
 * Formats each zod issue as "path: text" in the language, the path joined with dots as it is
 * written in the file. This is the one place that turns zod issues into text a person reads.
 */
export function zodIssueLines(issues: readonly Issue[], language: Language, options: ZodIssueLineOptions = {}): string[] {
  return issues.map((issue) => {
    const path = [...(options.pathPrefix ?? []), ...issue.path].map(String).join('.');
    return `${path === '' ? (options.rootName ?? '(root)') : path}: ${zodIssueText(issue, language)}`;
  });
}

/** Formats the zod issues as zodIssueLines does, in both languages, for an error that is printed later. */
export function zodIssueEntries(issues: readonly Issue[], options: ZodIssueLineOptions = {}): CatalogueEntry[] {
  const zh = zodIssueLines(issues, 'zh', options);
  const en = zodIssueLines(issues, 'en', options);
  return zh.map((line, index) => ({ zh: line, en: en[index]! }));
}

function catalogueEntryOf(message: string): CatalogueEntry | undefined {
  if (!catalogueByText) {
    catalogueByText = new Map();
    for (const table of [VALIDATION_TEXT, CLI_TEXT, UI_TEXT] as Array<Record<string, CatalogueEntry>>) {
      for (const entry of Object.values(table)) {
        // An entry with placeholders never equals a finished message, so it is left out.
        if (entry.en.includes('{')) continue;
        catalogueByText.set(entry.en, entry);
        catalogueByText.set(entry.zh, entry);
      }
    }
  }
  return catalogueByText.get(message);
}

function isZodMessage(issue: Issue): boolean {
  // The final issue no longer contains the input, so zod's type-mismatch message is matched by its form.
  if (issue.code === 'invalid_type') return ZOD_INVALID_TYPE.exec(issue.message)?.[1] === issue.expected;
  // The locale reads only the fields a final issue still has, except the input, which no case but invalid_type uses.
  return issue.message === zodEnglishMessage({ ...issue, input: undefined } as z.core.$ZodRawIssue);
}

function textOfCode(issue: Issue, language: Language): string {
  switch (issue.code) {
    case 'invalid_type':
      return invalidTypeText(issue, language);
    case 'too_small':
      return boundText(issue.origin, Number(issue.minimum), boundKind(issue), 'min', language);
    case 'too_big':
      return boundText(issue.origin, Number(issue.maximum), boundKind(issue), 'max', language);
    case 'invalid_value':
      if (issue.values.length === 1) return validationText('validation.oneValue', language, { value: literalText(issue.values[0]) });
      return validationText('validation.oneOf', language, { values: listText(issue.values.map(literalText), language) });
    case 'invalid_format':
      return formatText(issue, language);
    case 'not_multiple_of':
      return validationText('validation.multipleOf', language, { divisor: issue.divisor });
    case 'unrecognized_keys':
      return validationText(issue.keys.length === 1 ? 'validation.unrecognizedKey' : 'validation.unrecognizedKeys', language, { keys: listText(issue.keys.map(literalText), language) });
    case 'invalid_union': {
      // A discriminated union whose discriminator value matches no option lists the allowed values.
      const options = 'options' in issue ? issue.options : undefined;
      if (options && options.length > 0) return validationText('validation.oneOf', language, { values: listText(options.map(literalText), language) });
      return validationText('validation.noMatchingForm', language);
    }
    case 'invalid_key':
      return validationText('validation.invalidKey', language);
    case 'invalid_element':
      return validationText('validation.invalidElement', language);
    default:
      return validationText('validation.invalid', language);
  }
}

function invalidTypeText(issue: z.core.$ZodIssueInvalidType, language: Language): string {
  const expected = typeName(issue.expected, language);
  const received = ZOD_INVALID_TYPE.exec(issue.message)?.[2];
  if (received === 'undefined') return validationText('validation.required', language, { expected });
  if (issue.expected === 'int' && received === 'number') return validationText('validation.wholeNumber', language);
  if (received === undefined) return validationText('validation.expectedType', language, { expected });
  return validationText('validation.invalidType', language, { expected, received: typeName(received, language) });
}

function boundKind(issue: { exact?: boolean; inclusive?: boolean }): 'inclusive' | 'beyond' | 'exactly' {
  if (issue.exact === true) return 'exactly';
  if (issue.inclusive === false) return 'beyond';
  return 'inclusive';
}

/**
 * Words a lower or upper bound. `kind` is "inclusive" for min/max, "beyond" for an exclusive
 * bound such as positive(), and "exactly" for length().
 */
function boundText(origin: string, bound: number, kind: 'inclusive' | 'beyond' | 'exactly', side: 'min' | 'max', language: Language): string {
  let unit: 'length' | 'items' | 'number' = 'number';
  if (origin === 'string') unit = 'length';
  else if (origin === 'array' || origin === 'set') unit = 'items';
  if (kind === 'exactly') {
    const id: ValidationTextId = unit === 'number' ? 'validation.number.exactly' : `validation.${unit}.exactly`;
    return validationText(id, language, { value: bound, length: bound });
  }
  if (unit !== 'number') {
    if (side === 'min' && bound === 1 && kind === 'inclusive') return validationText('validation.notEmpty', language);
    // An exclusive length bound does not occur in zod 4's string and array checks; it is counted as the next whole length.
    let limit = bound;
    if (kind === 'beyond') limit = side === 'min' ? bound + 1 : bound - 1;
    return validationText(side === 'min' ? `validation.${unit}.atLeast` : `validation.${unit}.atMost`, language, { minimum: limit, maximum: limit });
  }
  if (side === 'min') return validationText(kind === 'inclusive' ? 'validation.number.atLeast' : 'validation.number.greaterThan', language, { minimum: bound });
  return validationText(kind === 'inclusive' ? 'validation.number.atMost' : 'validation.number.lessThan', language, { maximum: bound });
}

function formatText(issue: z.core.$ZodIssueInvalidStringFormat, language: Language): string {
  const detail = issue as z.core.$ZodIssueInvalidStringFormat & { prefix?: string; suffix?: string; includes?: string };
  switch (issue.format) {
    case 'regex':
      return validationText('validation.pattern', language, { pattern: issue.pattern ?? '' });
    case 'starts_with':
      return validationText('validation.startsWith', language, { prefix: JSON.stringify(detail.prefix ?? '') });
    case 'ends_with':
      return validationText('validation.endsWith', language, { suffix: JSON.stringify(detail.suffix ?? '') });
    case 'includes':
      return validationText('validation.includes', language, { text: JSON.stringify(detail.includes ?? '') });
    default: {
      const id = `validation.format.${issue.format}`;
      const format = id in VALIDATION_TEXT ? validationText(id as ValidationTextId, language) : issue.format;
      return validationText('validation.format', language, { format });
    }
  }
}

function typeName(type: string, language: Language): string {
  const id = `validation.type.${type}`;
  return id in VALIDATION_TEXT ? validationText(id as ValidationTextId, language) : type;
}

function literalText(value: unknown): string {
  return typeof value === 'string' ? JSON.stringify(value) : String(value);
}

/** Joins list items with the language's enumeration comma: "、" in Chinese, ", " in English. */
function listText(items: readonly string[], language: Language): string {
  return items.join(language === 'zh' ? '、' : ', ');
}
