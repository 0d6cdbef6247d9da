import { readFileSync } from 'node:fs';
import { basename, extname } from 'node:path';
import { parseArgs } from 'node:util';
import { LANGUAGE_VARIABLE, type Language, cliHelp, cliText, takeLanguageOption } from '@busfare/shared-protocol';
import { ArrivalDataError } from '../arrivals/arrival-data-error.js';
import { evaluateGtfsAvl } from '../arrivals/evaluation/gtfs-avl-evaluation.js';
import { evaluateSuzhou } from '../arrivals/evaluation/suzhou-evaluation.js';

/** A command-line mistake: the caller prints the message and exits with the usage code. */
export class ArrivalsEvalUsageError extends Error {}

/**
 * Runs `arrivals-eval` and returns the report lines; `writeLog` receives the human-readable summary.
 * Throws ArrivalsEvalUsageError for bad flags, including an invalid --lang or BUSFARE_LANG, and
 * ArrivalDataError for unreadable input. `language` is the help language a parent command chose.
 * A --lang in args overrides it, and without either BUSFARE_LANG applies.
 */
export function runArrivalsEval(args: string[], writeOut: (text: string) => void, writeLog: (text: string) => void, language?: Language): void {
  let values;
  let helpLanguage: Language;
  try {
    const selection = takeLanguageOption(args, language ?? process.env[LANGUAGE_VARIABLE]);
    helpLanguage = selection.language;
    ({ values } = parseArgs({
      args: selection.args,
      allowPositionals: false,
      strict: true,
      options: {
        format: { type: 'string' },
        events: { type: 'string' },
        route: { type: 'string' },
        gtfs: { type: 'string' },
        avl: { type: 'string' },
        baseline: { type: 'string' },
        history: { type: 'string' },
        tz: { type: 'string' },
        help: { type: 'boolean', short: 'h' },
      },
    }));
  } catch (error) {
    throw new ArrivalsEvalUsageError(error instanceof Error ? error.message : String(error), { cause: error });
  }
  if (values.help) {
    writeOut(cliHelp('backoffice.arrivalsEval', helpLanguage));
    return;
  }
  if (values.format === 'gtfs-avl') {
    for (const flag of ['gtfs', 'avl', 'tz'] as const) {
      if (typeof values[flag] !== 'string') throw new ArrivalsEvalUsageError(cliText('cli.arrivals.flagNeeded', helpLanguage, { format: 'gtfs-avl', flag }));
    }
    runGtfsAvl({ gtfs: values.gtfs!, avl: values.avl!, tz: values.tz!, baseline: values.baseline, history: values.history }, writeOut, writeLog, helpLanguage);
    return;
  }
  if (values.format !== 'suzhou') throw new ArrivalsEvalUsageError(cliText('cli.arrivals.invalidFormat', helpLanguage, { value: values.format ?? '' }));
  if (typeof values.events !== 'string') throw new ArrivalsEvalUsageError(cliText('cli.arrivals.flagNeeded', helpLanguage, { format: 'suzhou', flag: 'events FILE' }));

  const routeId = values.route ?? basename(values.events, extname(values.events));
  const text = readInput('events', values.events, helpLanguage);
  const result = evaluateSuzhou(text, { routeId });
  for (const report of result.reports) writeOut(`${JSON.stringify(report)}\n`);
  writeLog(
    `route ${routeId}: ${result.sightings} sightings (${result.markerRows} marker rows skipped), ${result.trips} trips; ` +
      `training ${result.trainingDates[0]}..${result.trainingDates.at(-1)} (${result.trainingDates.length} dates), ` +
      `test ${result.testDates[0]}..${result.testDates.at(-1)} (${result.testDates.length} dates); ` +
      `${result.unpredictable} targets without history left out, ${result.substituted} model gaps filled by the historical median\n` +
      `busfare settings: ${JSON.stringify(result.fit.settings)}\n`,
  );
}

/** Reads the file of an input flag. An unreadable file throws ArrivalDataError worded in the language. */
function readInput(flag: string, path: string, language: Language): string {
  try {
    return readFileSync(path, 'utf8');
  } catch (error) {
    throw new ArrivalDataError(cliText('cli.arrivals.inputUnreadable', language, { flag, path, message: error instanceof Error ? error.message : String(error) }));
  }
}

function runGtfsAvl(flags: { gtfs: string; avl: string; tz: string; baseline: string | undefined; history: string | undefined }, writeOut: (text: string) => void, writeLog: (text: string) => void, language: Language): void {
  const result = evaluateGtfsAvl({
    gtfsFolder: flags.gtfs,
    avlText: readInput('avl', flags.avl, language),
    timeZone: flags.tz,
    ...(flags.baseline === undefined ? {} : { baselineText: readInput('baseline', flags.baseline, language) }),
    ...(flags.history === undefined ? {} : { historyText: readInput('history', flags.history, language) }),
  });
  for (const report of result.reports) writeOut(`${JSON.stringify(report)}\n`);
  const trips = result.detectedTrips.map((entry) => `${entry.trip.routeId}/${entry.trip.id} (${entry.trip.arrivals.length} stops)`).join(', ');
  writeLog(
    `${result.fixes} positions; detected trips: ${trips}; ${result.requests} prediction requests; ` +
      `history: ${result.scheduleTrips} timetable trips, ${result.historyTrips} recorded trips; ` +
      `targets left out: ${result.leftOut.noHistory} without history, ${result.leftOut.noBaseline} without a current TransitClock prediction\n` +
      `busfare settings (${result.settingsSource}): ${JSON.stringify(result.busfareSettings)}\n`,
  );
}
