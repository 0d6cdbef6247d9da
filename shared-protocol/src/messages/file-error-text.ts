import { type CatalogueEntry, type CliTextId, type Language, cliText } from './catalogue.js';
import { catalogueEntryFrom } from './cli-usage.js';

/**
 * Words why a file could not be opened, read or created, in the language: for ENOENT, EEXIST,
 * EACCES, EPERM and EISDIR a catalogue text in place of Node's "ENOENT: no such file or
 * directory, open '…'", and the error's own message for any other error.
 */
export function fileErrorText(error: unknown, language: Language): string {
  switch ((error as NodeJS.ErrnoException | undefined)?.code) {
    case 'ENOENT':
      return cliText('cli.fileError.notFound', language);
    case 'EEXIST':
      return cliText('cli.fileError.exists', language);
    case 'EACCES':
    case 'EPERM':
      return cliText('cli.fileError.accessDenied', language);
    case 'EISDIR':
      return cliText('cli.fileError.isFolder', language);
    default:
      return error instanceof Error ? error.message : String(error);
  }
}

/**
 * Returns the catalogue text `id` in both languages, with its {message} placeholder filled by
 * fileErrorText and the other placeholders from `params`.
 */
export function fileErrorEntry(id: CliTextId, error: unknown, params: Record<string, string | number> = {}): CatalogueEntry {
  return catalogueEntryFrom((language) => cliText(id, language, { ...params, message: fileErrorText(error, language) }));
}
