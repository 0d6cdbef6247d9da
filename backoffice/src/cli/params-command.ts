import { existsSync, readFileSync, statSync } from 'node:fs';
import { resolve } from 'node:path';
import { parseArgs } from 'node:util';
import Database from 'better-sqlite3';
import { DEFAULT_LANGUAGE, FareInputError, LANGUAGE_VARIABLE, type Language, LanguageOptionError, cliHelp, cliText, fileErrorEntry, parseArgsErrorText, problemListText, routeStopLookupFromRoutes, takeLanguageOption, routesBodySchema, type RouteStopLookup, zodIssueEntries } from '@busfare/shared-protocol';
import { readCsvTableError } from '../csv/csv-errors.js';
import { GtfsFeedError, importGtfsFeed } from '../gtfs/gtfs-feed.js';
import { routesBodyFromFeed } from '../gtfs/routes-from-feed.js';
import { TapFileError, dryRunTaps } from '../params/dry-run.js';
import { ParameterFileError, readFareTableFile } from '../params/fare-table-file.js';
import { ConfigError, loadConfig } from '../config.js';
import { missingDatabaseProblem } from '../config-paths-check.js';
import { readActivePublication } from '../params/parameter-repository.js';
import { ParameterAuthoringError } from '../params/authoring.js';
import { SigningKeyError } from '../params/signing-key-file.js';
import { blacklistCommand, keygenCommand, publishCommand, statusCommand, UsageError, type CommandIo } from './params-authoring-commands.js';

export type { CommandIo };

const processIo: CommandIo = {
  stdout: (text) => process.stdout.write(text),
  stderr: (text) => process.stderr.write(text),
};

const EXIT_OK = 0;
const EXIT_FAILURE = 1;
const EXIT_USAGE = 2;

/**
 * Runs `busfare-backoffice params …` and returns the exit code. `language` is the help language a
 * parent command chose. A --lang in args overrides it, and without either BUSFARE_LANG applies.
 */
export async function paramsCommand(args: string[], io: CommandIo = processIo, language?: Language): Promise<number> {
  let chosen: Language = language ?? DEFAULT_LANGUAGE;
  try {
    const selection = takeLanguageOption(args, language ?? process.env[LANGUAGE_VARIABLE]);
    chosen = selection.language;
    const [command, ...rest] = selection.args;
    switch (command) {
      case undefined:
        io.stderr(cliHelp('backoffice.params', selection.language));
        return EXIT_USAGE;
      case '--help':
      case '-h':
        io.stdout(cliHelp('backoffice.params', selection.language));
        return EXIT_OK;
      case 'dry-run':
        return dryRun(rest, io, selection.language);
      case 'publish':
        return publishCommand(rest, io, selection.language);
      case 'blacklist':
        return blacklistCommand(rest, io, selection.language);
      case 'status':
        return statusCommand(rest, io, selection.language);
      case 'keygen':
        return keygenCommand(rest, io, selection.language);
      default:
        throw new UsageError(cliText('cli.params.unknownCommand', chosen, { command }));
    }
  } catch (error) {
    return report(error, io, chosen);
  }
}

function dryRun(args: string[], io: CommandIo, language: Language): number {
  let values;
  try {
    ({ values } = parseArgs({
      args,
      options: { table: { type: 'string' }, taps: { type: 'string' }, routes: { type: 'string' }, config: { type: 'string' }, db: { type: 'string' }, help: { type: 'boolean', short: 'h' } },
      allowPositionals: false,
      strict: true,
    }));
  } catch (error) {
    throw new UsageError(parseArgsErrorText(error, language, 'busfare-backoffice params dry-run') ?? (error as Error).message);
  }
  if (values.help) {
    io.stdout(cliHelp('backoffice.params.dryRun', language));
    return EXIT_OK;
  }
  if (values.table === undefined) throw new UsageError(cliText('cli.params.missingTable', language));
  if (values.taps === undefined) throw new UsageError(cliText('cli.params.missingTaps', language));

  const table = readFareTableFile(values.table);
  const routeStops = values.routes === undefined ? activeRouteStops(values.config, values.db, io, language) : readRouteStops(values.routes);
  let csv: Buffer;
  try {
    csv = readFileSync(values.taps);
  } catch (error) {
    throw new ParameterFileError(values.taps, [fileErrorEntry('cli.params.tapsUnreadable', error)]);
  }
  io.stdout(dryRunTaps(table, csv, routeStops));
  return EXIT_OK;
}

/**
 * Loads the routes parameter set in effect now from the clearing database: --db, else the config's
 * db, else the default database file. Returns undefined, so that only the fare table's stop lists
 * apply, when the default file does not exist or the database contains no routes set in effect. A
 * database named by --db or --config must exist.
 */
function activeRouteStops(configPath: string | undefined, db: string | undefined, io: CommandIo, language: Language): RouteStopLookup | undefined {
  const config = loadConfig(configPath, db === undefined ? {} : { db });
  const named = configPath !== undefined || db !== undefined;
  if (!named && !existsSync(config.db)) return undefined;
  const databaseProblem = missingDatabaseProblem(config.db);
  if (databaseProblem !== undefined) throw new UsageError(databaseProblem[language]);

  let active;
  try {
    active = readActivePublication(config.db, 'routes', new Date());
  } catch (error) {
    // A file that is no SQLite database, or a damaged one, is a wrong --db or config db.
    if (!(error instanceof Database.SqliteError)) throw error;
    throw new UsageError(cliText('cli.db.unreadable', language, { db: resolve(config.db), reason: error.message }));
  }
  if (active === undefined) {
    io.stderr(`busfare-backoffice params: ${cliText('cli.params.dryRunNoRoutesSet', language, { db: config.db })}\n`);
    return undefined;
  }
  const result = routesBodySchema.safeParse(active.set.body);
  if (!result.success) throw new ParameterFileError(config.db, zodIssueEntries(result.error.issues));
  io.stderr(`busfare-backoffice params: ${cliText('cli.params.dryRunRoutesSet', language, { db: config.db, version: active.set.version })}\n`);
  return routeStopLookupFromRoutes(result.data);
}

/** Loads route data from a GTFS folder or a routes JSON file (a parameter set or its body). */
function readRouteStops(path: string): RouteStopLookup {
  let isFolder: boolean;
  try {
    isFolder = statSync(path).isDirectory();
  } catch (error) {
    throw new ParameterFileError(path, [fileErrorEntry('cli.params.routesUnreadable', error)]);
  }
  if (isFolder) return routeStopLookupFromRoutes(routesBodyFromFeed(importGtfsFeed(path)));

  let parsed: unknown;
  try {
    parsed = JSON.parse(readFileSync(path, 'utf8'));
  } catch (error) {
    throw new ParameterFileError(path, [fileErrorEntry('cli.params.routesUnreadable', error)]);
  }
  const candidate = parsed as { kind?: unknown; body?: unknown };
  const body = typeof parsed === 'object' && parsed !== null && candidate.kind === 'routes' ? candidate.body : parsed;
  const result = routesBodySchema.safeParse(body);
  if (!result.success) throw new ParameterFileError(path, zodIssueEntries(result.error.issues));
  return routeStopLookupFromRoutes(result.data);
}

function report(error: unknown, io: CommandIo, language: Language): number {
  if (error instanceof UsageError || error instanceof LanguageOptionError) {
    io.stderr(`busfare-backoffice params: ${error.message}\n`);
    return EXIT_USAGE;
  }
  if (error instanceof ParameterFileError) {
    io.stderr(`busfare-backoffice params: ${problemListText(cliText('cli.fileInvalid', language, { path: error.path }), error.problemsIn(language))}\n`);
    return EXIT_USAGE;
  }
  if (error instanceof ParameterAuthoringError) {
    io.stderr(`busfare-backoffice params: ${problemListText(cliText('cli.params.setInvalid', language), error.problemsIn(language))}\n`);
    return EXIT_USAGE;
  }
  if (error instanceof SigningKeyError) {
    io.stderr(`busfare-backoffice params: ${error.textIn(language)}\n`);
    return EXIT_USAGE;
  }
  if (error instanceof ConfigError) {
    io.stderr(`busfare-backoffice params: ${problemListText(cliText('cli.configInvalid', language, { source: error.source }), error.problemsIn(language))}\n`);
    return EXIT_USAGE;
  }
  if (error instanceof TapFileError) {
    io.stderr(`busfare-backoffice params: ${problemListText(cliText('cli.params.tapsInvalid', language), error.problems)}\n`);
    return EXIT_USAGE;
  }
  if (error instanceof GtfsFeedError) {
    io.stderr(`busfare-backoffice params: ${problemListText(cliText('cli.params.gtfsInvalid', language, { folder: error.folder }), error.problemsIn(language))}\n`);
    return EXIT_USAGE;
  }
  const csvProblem = readCsvTableError(error);
  if (csvProblem) {
    io.stderr(`busfare-backoffice params: ${cliText('cli.params.csvInvalid', language, { problem: csvProblem })}\n`);
    return EXIT_USAGE;
  }
  if (error instanceof FareInputError) {
    io.stderr(`busfare-backoffice params: ${error.message}\n`);
    return EXIT_USAGE;
  }
  io.stderr(`busfare-backoffice params: ${error instanceof Error ? error.message : String(error)}\n`);
  return EXIT_FAILURE;
}
