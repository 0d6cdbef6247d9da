import { parse } from 'csv-parse/sync';

/** A CSV file as its header and rows of raw text fields. */
export interface CsvTable {
  /** Column names with surrounding spaces removed. */
  header: string[];
  rows: string[][];
  /** 1-based line number of each row in the file, for error messages. */
  lines: number[];
}

/**
 * Parses CSV text with a header row. Accepts a UTF-8 byte-order mark, CRLF or LF line endings, a
 * missing final newline, quoted fields with embedded commas, quotes and newlines, and spaces
 * around unquoted fields. Blank lines are skipped. Throws the parser's CsvError, which names the
 * line, on malformed quoting or a row with more fields than the header.
 */
export function readCsvTable(input: string | Uint8Array): CsvTable {
  const records = parse(typeof input === 'string' ? input : Buffer.from(input), {
    bom: true,
    trim: true,
    skip_empty_lines: true,
    relax_column_count_less: true,
    info: true,
  }) as unknown as { record: string[]; info: { lines: number } }[];
  if (records.length === 0) return { header: [], rows: [], lines: [] };
  const [first, ...rest] = records;
  return {
    header: first!.record.map((name) => name.trim()),
    rows: rest.map((entry) => entry.record),
    lines: rest.map((entry) => entry.info.lines),
  };
}

/** Field of a row by column name; empty text when the row is short or the column is absent. */
export function columnReader(table: CsvTable): (row: string[], column: string) => string {
  const index = new Map(table.header.map((name, position) => [name, position]));
  return (row, column) => {
    const position = index.get(column);
    return position === undefined ? '' : (row[position] ?? '');
  };
}

/** Formats one CSV line without its line ending, quoting a field as RFC 4180 does where the field needs it. */
export function formatCsvRow(fields: readonly (string | number)[]): string {
  return fields
    .map((field) => {
      const text = String(field);
      return /[",\r\n]/.test(text) || text !== text.trim() ? `"${text.replaceAll('"', '""')}"` : text;
    })
    .join(',');
}
