import { createReadStream } from 'node:fs';
import type { Readable, Writable } from 'node:stream';
import { parseArgs } from 'node:util';
import { type Language, cliHelp, cliText, fileErrorText, parseArgsErrorText } from '@busfare/shared-protocol';
import { BUILD_DATE } from '../build-info.js';
import { DEFAULT_MAX_HDOP, DEFAULT_MIN_SATELLITES } from '../gnss/nmea/fix-filter.js';
import { NmeaFixPipeline, type NmeaEvent } from '../gnss/nmea/fix-pipeline.js';
import { takeCommandLanguage } from './cli-options.js';

export interface NmeaCommandIo {
  stdin: Readable;
  stdout: Writable;
  stderr: Writable;
  /** System clock for the week-rollover rule. */
  now: () => Date;
}

class UsageError extends Error {}

function parseDateOption(value: string, language: Language): Date {
  const date = /^\d{4}-\d{2}-\d{2}$/.test(value) ? new Date(`${value}T00:00:00Z`) : new Date(value);
  if (Number.isNaN(date.getTime()) || !/^\d{4}-\d{2}-\d{2}/.test(value)) {
    throw new UsageError(cliText('cli.nmea.invalidDate', language, { value }));
  }
  return date;
}

function parseNumberOption(name: string, value: string | undefined, fallback: number, integer: boolean, language: Language): number {
  if (value === undefined) return fallback;
  const number = Number(value);
  if (value.trim() === '' || !Number.isFinite(number) || number < 0 || (integer && !Number.isInteger(number))) {
    throw new UsageError(cliText(integer ? 'cli.nmea.invalidWholeNumber' : 'cli.nmea.invalidNumber', language, { name, value }));
  }
  return number;
}

function round(value: number | undefined, decimals: number): number | null {
  if (value === undefined) return null;
  const factor = 10 ** decimals;
  return Math.round(value * factor) / factor;
}

/** Formats an event as one JSON output line (without the newline). */
export function formatNmeaEvent(event: NmeaEvent): string {
  if (event.kind !== 'fix') return JSON.stringify({ kind: event.kind, line: event.line, reason: event.reason });
  const { fix } = event;
  return JSON.stringify({
    kind: 'fix',
    time: fix.time ? fix.time.toISOString() : null,
    lat: round(fix.lat, 8),
    lon: round(fix.lon, 8),
    speedMps: round(fix.speedMps, 3),
    courseDeg: round(fix.courseDeg, 2),
    quality: fix.quality ?? null,
    satellites: fix.satellites ?? null,
    hdop: fix.hdop ?? null,
    talker: fix.talker,
  });
}

async function writeLines(stdout: Writable, events: NmeaEvent[]): Promise<void> {
  if (events.length === 0 || stdout.destroyed) return;
  const text = events.map((event) => `${formatNmeaEvent(event)}\n`).join('');
  if (stdout.write(text)) return;
  await new Promise<void>((resolve) => {
    const done = () => {
      stdout.off('drain', done);
      stdout.off('close', done);
      resolve();
    };
    stdout.once('drain', done);
    stdout.once('close', done);
  });
}

/**
 * Runs `busfare-terminal nmea FILE|-` and returns the exit status. `language` is the help language
 * that busfare-terminal chose. A --lang in args overrides it, and without either BUSFARE_LANG applies.
 */
export async function nmeaCommand(args: string[], io: Partial<NmeaCommandIo> = {}, language?: Language): Promise<number> {
  const stdout = io.stdout ?? process.stdout;
  const stderr = io.stderr ?? process.stderr;
  const selection = takeCommandLanguage(args, language, (text) => stderr.write(`busfare-terminal nmea: ${text}`));
  if (selection === undefined) return 2;
  const usage = cliHelp('terminal.nmea', selection.language, { buildDate: BUILD_DATE, maxHdop: DEFAULT_MAX_HDOP, minSatellites: DEFAULT_MIN_SATELLITES });

  let pipeline: NmeaFixPipeline;
  let input: string;
  try {
    const { values, positionals } = parseArgs({
      args: selection.args,
      allowPositionals: true,
      options: {
        'not-before': { type: 'string' },
        'max-hdop': { type: 'string' },
        'min-satellites': { type: 'string' },
        help: { type: 'boolean', short: 'h' },
      },
    });
    if (values.help) {
      stdout.write(usage);
      return 0;
    }
    if (positionals.length !== 1) {
      throw new UsageError(cliText(positionals.length === 0 ? 'cli.nmea.missingFile' : 'cli.nmea.tooManyFiles', selection.language));
    }
    input = positionals[0]!;
    pipeline = new NmeaFixPipeline({
      notBefore: parseDateOption(values['not-before'] ?? BUILD_DATE, selection.language),
      maxHdop: parseNumberOption('max-hdop', values['max-hdop'], DEFAULT_MAX_HDOP, false, selection.language),
      minSatellites: parseNumberOption('min-satellites', values['min-satellites'], DEFAULT_MIN_SATELLITES, true, selection.language),
      now: io.now,
    });
  } catch (error) {
    const message = parseArgsErrorText(error, selection.language, 'busfare-terminal nmea') ?? (error instanceof Error ? error.message : String(error));
    stderr.write(`busfare-terminal nmea: ${message}\n\n${usage}`);
    return 2;
  }

  const source: Readable = input === '-' ? (io.stdin ?? process.stdin) : createReadStream(input);
  const counts = { fix: 0, rejected: 0, ignored: 0 };
  // A reader that stops early (`| head`) closes the pipe, which ends the run without an error.
  let outputClosed = false;
  stdout.on('error', () => {
    outputClosed = true;
    stdout.destroy();
  });
  try {
    for await (const chunk of source) {
      if (outputClosed) break;
      const events = pipeline.push(chunk as Buffer);
      for (const event of events) counts[event.kind] += 1;
      await writeLines(stdout, events);
    }
    const events = pipeline.end();
    for (const event of events) counts[event.kind] += 1;
    await writeLines(stdout, events);
  } catch (error) {
    const message = fileErrorText(error, selection.language);
    stderr.write(`busfare-terminal nmea: ${cliText('cli.nmea.readFailed', selection.language, { input: input === '-' ? 'stdin' : input, message })}\n`);
    return 1;
  }
  stderr.write(`busfare-terminal nmea: ${cliText('cli.nmea.summary', selection.language, counts)}\n`);
  return 0;
}
