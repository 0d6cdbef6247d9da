import { readFileSync } from 'node:fs';
import { basename, extname } from 'node:path';
import { parseArgs } from 'node:util';
import { LANGUAGE_VARIABLE, type Language, cliHelp, cliText, fileErrorText, takeLanguageOption } from '@busfare/shared-protocol';
import { ArrivalDataError } from '../arrivals/arrival-data-error.js';
import { evaluateGtfsAvl } from '../arrivals/evaluation/gtfs-avl-evaluation.js';
import { evaluateSuzhou } from '../arrivals/evaluation/suzhou-evaluation.js';
import { checkTimeZone } from '../arrivals/local-time.js';

/** A command-line mistake: the caller prints the message and exits with the usage code. */
export class ArrivalsEvalUsageError extends Error {}

/**
 * Runs `arrivals-eval`. `writeOut` receives the report lines, and `writeLog` the human-readable
 * summary in the chosen language.
 * Throws ArrivalsEvalUsageError for bad flags, including an invalid --lang or BUSFARE_LANG,
 * ArrivalDataError for unreadable input and GtfsFeedError for an unusable --gtfs feed. `language`
 * is the language a parent command chose. A --lang in args overrides it, and without either
 * BUSFARE_LANG applies.
 */
export function runArrivalsEval(args: string[], writeOut: (text: string) => void, writeLog: (text: string) => void, language?: Language): void {
  let values;
  let textLanguage: Language;
  try {
    const selection = takeLanguageOption(args, language ?? process.env[LANGUAGE_VARIABLE]);
    textLanguage = selection.language;
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
    writeOut(cliHelp('backoffice.arrivalsEval', textLanguage));
    return;
  }
  if (values.format === undefined) {
    throw new ArrivalsEvalUsageError(`${cliText('cli.arrivals.formatMissing', textLanguage)}\n\n${cliHelp('backoffice.arrivalsEval', textLanguage).trimEnd()}`);
  }
  if (values.format === 'gtfs-avl') {
    for (const flag of ['gtfs', 'avl', 'tz'] as const) {
      if (typeof values[flag] !== 'string') throw new ArrivalsEvalUsageError(cliText('cli.arrivals.flagNeeded', textLanguage, { format: 'gtfs-avl', flag }));
    }
    if (!isTimeZone(values.tz!)) throw new ArrivalsEvalUsageError(cliText('cli.arrivals.invalidTimeZone', textLanguage, { value: values.tz! }));
    runGtfsAvl({ gtfs: values.gtfs!, avl: values.avl!, tz: values.tz!, baseline: values.baseline, history: values.history }, writeOut, writeLog, textLanguage);
    return;
  }
  if (values.format !== 'suzhou') throw new ArrivalsEvalUsageError(cliText('cli.arrivals.invalidFormat', textLanguage, { value: values.format }));
  if (typeof values.events !== 'string') throw new ArrivalsEvalUsageError(cliText('cli.arrivals.flagNeeded', textLanguage, { format: 'suzhou', flag: 'events FILE' }));

  const routeId = values.route ?? basename(values.events, extname(values.events));
  const text = readInput('events', values.events, textLanguage);
  const result = evaluateSuzhou(text, { routeId });
  for (const report of result.reports) writeOut(`${JSON.stringify(report)}\n`);
  const summary = cliText('cli.arrivals.suzhouSummary', textLanguage, {
    route: routeId,
    sightings: result.sightings,
    markerRows: result.markerRows,
    trips: result.trips,
    trainingFirst: result.trainingDates[0] ?? '',
    trainingLast: result.trainingDates.at(-1) ?? '',
    trainingDates: result.trainingDates.length,
    testFirst: result.testDates[0] ?? '',
    testLast: result.testDates.at(-1) ?? '',
    testDates: result.testDates.length,
    unpredictable: result.unpredictable,
    substituted: result.substituted,
  });
  const signals = cliText('cli.arrivals.signals', textLanguage, {
    stops: result.fit.signalStops,
    maeByScale: result.fit.signalMoveMaeS.map(({ scale, carry, maeS }) => `${scale}/${carry}: ${maeS}`).join(', '),
    scale: result.fit.settings.signalScale,
    carry: result.fit.settings.signalCarry,
  });
  writeLog(`${summary}\n${signals}\n${cliText('cli.arrivals.settings', textLanguage, { settings: JSON.stringify(result.fit.settings) })}\n`);
}

function isTimeZone(zone: string): boolean {
  try {
    checkTimeZone(zone);
    return true;
  } catch {
    return false;
  }
}

/** Reads the file of an input flag. An unreadable file throws ArrivalDataError worded in the language. */
function readInput(flag: string, path: string, language: Language): string {
  try {
    return readFileSync(path, 'utf8');
  } catch (error) {
    throw new ArrivalDataError(cliText('cli.arrivals.inputUnreadable', language, { flag, path, message: fileErrorText(error, language) }));
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
  const trips = result.detectedTrips
    .map((entry) => cliText('cli.arrivals.detectedTrip', language, { route: entry.trip.routeId, trip: entry.trip.id, stops: entry.trip.arrivals.length }))
    .join(language === 'zh' ? '、' : ', ');
  const summary = cliText('cli.arrivals.gtfsAvlSummary', language, {
    fixes: result.fixes,
    trips,
    requests: result.requests,
    scheduleTrips: result.scheduleTrips,
    historyTrips: result.historyTrips,
    noHistory: result.leftOut.noHistory,
    noBaseline: result.leftOut.noBaseline,
  });
  const settings = cliText('cli.arrivals.settingsFrom', language, {
    source: cliText(`cli.arrivals.settingsSource.${result.settingsSource}`, language),
    settings: JSON.stringify(result.busfareSettings),
  });
  writeLog(`${summary}\n${settings}\n`);
}
