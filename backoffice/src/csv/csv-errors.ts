import { CsvError } from 'csv-parse/sync';

/** Returns the message of a CSV parse error, which names the line, or undefined for any other error. */
export function readCsvTableError(error: unknown): string | undefined {
  return error instanceof CsvError ? error.message : undefined;
}
