import { readFileSync } from 'node:fs';
import { type Language, type ProblemText, cliTextEntry, fileErrorEntry, problemTextsIn, zodIssueEntries } from '@busfare/shared-protocol';
import { z } from 'zod';
import { DEFAULT_PARAMETER_GRACE_MINUTES, DEFAULT_PARAMETER_MAX_OFFLINE_HOURS } from '../params/outdated-parameter-check.js';
import { DEFAULT_DRIVER_SCREEN_PORT } from '../screen/driver-screen-server.js';
import { PN532_HSU_BAUD_RATES } from '../readers/serial/pn532-commands.js';
import { DEFAULT_CLOCK_CONSECUTIVE_FIXES, DEFAULT_CLOCK_MAX_OFFSET_SECONDS } from './clock-check.js';
import { DEFAULT_DRIVER_CARD_TYPE_CODES, DEFAULT_DRIVER_NUMBER_DIGITS } from '../tap/driver-card.js';

/** "/pattern/flags" is a regular expression; any other text matches as a part of the name, ignoring case. */
const readerNameFilter = z
  .string()
  .min(1)
  .refine((value) => !value.startsWith('/') || parseReaderNameFilter(value) instanceof RegExp, 'not a valid /pattern/flags regular expression');

/** Turns a configured reader name into the adapters' filter: a RegExp for "/pattern/flags", else the text. */
export function parseReaderNameFilter(value: string): string | RegExp {
  const match = /^\/(.+)\/([a-z]*)$/.exec(value);
  if (!match) return value;
  try {
    return new RegExp(match[1]!, match[2]);
  } catch {
    return value;
  }
}

/** Configuration of one `busfare-terminal run` process. Unknown keys are errors. */
export const terminalConfigSchema = z.strictObject({
  terminalId: z.string().regex(/^[A-Za-z0-9_-]{1,32}$/, 'terminal id must be 1-32 letters, digits, "_" or "-"'),
  vehicleId: z.string().min(1).max(32),
  /** Folder of the outbox and parameter databases. */
  dataDir: z.string().min(1),
  broker: z.strictObject({
    /** mqtt://127.0.0.1:1883 and the like. */
    url: z.url({ protocol: /^mqtts?$/, error: 'must be an mqtt:// or mqtts:// URL' }),
    /** The terminal's credentials; the user name is normally the terminal id. */
    username: z.string().min(1).optional(),
    password: z.string().min(1).optional(),
  }),
  /** PEM file of the back office's Ed25519 parameter-signing public key, pinned at provisioning. */
  parameterPublicKeyFile: z.string().min(1),
  reader: z.discriminatedUnion('kind', [
    z.strictObject({
      /** A simulated reader in another process, reached over a Unix domain socket. */
      kind: z.literal('socket'),
      path: z.string().min(1),
    }),
    z.strictObject({
      /** A contactless reader and a PSAM in a contact slot, both through pcscd. */
      kind: z.literal('pcsc'),
      /** The contactless reader: a part of its PC/SC name, or /pattern/flags. Default: the first contactless reader. */
      readerName: readerNameFilter.optional(),
      /** The PSAM slot, in the same form. Default: the first contact slot. */
      psamReaderName: readerNameFilter.optional(),
    }),
    z.strictObject({
      /** A PN532 reader module on a serial line (HSU, 8N1) for the cards, and a PSAM in a contact slot through pcscd. */
      kind: z.literal('serial'),
      /** Device path of the module; prefer a stable /dev/serial/by-id/... name. */
      path: z.string().min(1),
      /** Default 115200, the PN532's rate after power-on. Only the rates the PN532 HSU supports are accepted. */
      baudRate: z
        .number()
        .int()
        .refine((value) => PN532_HSU_BAUD_RATES.includes(value), `must be a PN532 HSU rate: ${PN532_HSU_BAUD_RATES.join(', ')}`)
        .optional(),
      /** The PSAM slot: a part of its PC/SC name, or /pattern/flags. Default: the first contact slot. */
      psamReaderName: readerNameFilter.optional(),
    }),
  ]),
  /** The GPS/BeiDou receiver; without it taps carry no position. */
  gps: z
    .discriminatedUnion('kind', [
      z.strictObject({
        /** An NMEA 0183 receiver on a serial port. */
        kind: z.literal('serial'),
        path: z.string().min(1),
        baudRate: z.number().int().min(1200).max(921_600).optional(),
        /** Pattern of device paths searched when `path` disappears, such as /dev/serial/by-id/usb-*GNSS*. */
        rescanPattern: z.string().min(1).optional(),
      }),
      z.strictObject({
        /** gpsd on this host. */
        kind: z.literal('gpsd'),
        host: z.union([z.literal('127.0.0.1'), z.literal('::1')], { error: 'must be 127.0.0.1 or ::1: gpsd is reached on this host only' }).optional(),
        port: z.number().int().min(1).max(65_535).optional(),
      }),
      z.strictObject({
        /** A recorded NMEA file played back, for bench runs. */
        kind: z.literal('nmea-file'),
        path: z.string().min(1),
        speed: z.number().positive().optional(),
        loop: z.boolean().optional(),
      }),
    ])
    .optional(),
  service: z
    .strictObject({
      route: z.string().max(32).optional(),
      direction: z.union([z.literal(0), z.literal(1)]).optional(),
      driverId: z.string().max(32).optional(),
    })
    .prefault({}),
  /**
   * Driver cards: EF15 card-type codes that mark them, and how many rightmost digits of the card
   * number form the driver number. A CPU card of a local issuer with a code listed here is never
   * charged a fare, even where the fare table maps the code to a rider card type. Cards of other
   * cities pay as riders once a fare table names the local issuers. MIFARE Classic cards are not
   * checked for these codes.
   */
  driverCards: z
    .strictObject({
      typeCodes: z
        .array(z.number().int().min(0).max(255))
        .min(1)
        .max(16)
        .refine((codes) => new Set(codes).size === codes.length, 'card-type codes must not repeat')
        .default([...DEFAULT_DRIVER_CARD_TYPE_CODES]),
      driverNumberDigits: z.number().int().min(1).max(16).default(DEFAULT_DRIVER_NUMBER_DIGITS),
    })
    .prefault({}),
  /**
   * The driver's screen and shift. The page is served on 127.0.0.1 only, because the kiosk
   * browser runs on the validator itself. With `enabled: false` no page is served, but driver
   * cards still sign on and off and shift records are still sent.
   */
  driverScreen: z
    .strictObject({
      enabled: z.boolean().default(true),
      /** TCP port of the page on 127.0.0.1; 0 picks a free one. */
      port: z
        .number({ error: 'must be a TCP port number from 0 to 65535' })
        .int('must be a whole TCP port number from 0 to 65535')
        .min(0, 'must be a TCP port number from 0 to 65535')
        .max(65_535, 'must be a TCP port number from 0 to 65535')
        .default(DEFAULT_DRIVER_SCREEN_PORT),
      /** SQLite file of the open shift and the shift records waiting to be sent. Default: `<dataDir>/<terminalId>-shifts.db`. */
      shiftDb: z.string().min(1).optional(),
      /**
       * Seconds after a first tap of the signed-on driver's card in which a second tap signs off.
       * A second tap within 2 s counts as the same presentation, so the window must be longer.
       */
      signOffTapWindowSeconds: z
        .number({ error: 'must be a number of seconds from 3 to 600' })
        .int('must be a whole number of seconds from 3 to 600')
        .min(3, 'must be a number of seconds from 3 to 600: a second tap within 2 s counts as the same presentation')
        .max(600, 'must be a number of seconds from 3 to 600')
        .optional(),
      /** Rider cards while no driver is signed on: "accept" (default) takes their fares, "reject" shows "请签到". */
      riderTapsWithoutShift: z.enum(['accept', 'reject'], { error: 'must be "accept" or "reject"' }).optional(),
    })
    .prefault({}),
  uplink: z
    .strictObject({
      batchSize: z.number().int().min(1).max(500).optional(),
      maxInFlightBatches: z.number().int().min(1).max(64).optional(),
      ackTimeoutMs: z.number().int().min(100).optional(),
      statusIntervalMs: z.number().int().min(100).optional(),
      retentionMs: z.number().int().min(0).optional(),
    })
    .prefault({}),
  storage: z
    .strictObject({
      warnFreeBytes: z.number().int().min(0).optional(),
      refuseFreeBytes: z.number().int().min(0).optional(),
    })
    .prefault({}),
  /**
   * Milliseconds added to the system clock, for bench runs that simulate a terminal whose clock
   * is wrong. Always 0 on a bus.
   */
  clockOffsetMs: z.number().int().default(0),
  utcOffsetMinutes: z.number().int().min(-720).max(840).default(480),
  /** Thresholds of the clock-wrong and parameters-outdated alerts on the driver's screen; absent means every default. */
  alerts: z
    .strictObject({
      /** Seconds the clock may differ from GNSS time; 5-3600, default 30. NMEA arrives up to about 1 s late. */
      clockMaxOffsetSeconds: z
        .number({ error: 'must be a number of seconds from 5 to 3600' })
        .int('must be a whole number of seconds from 5 to 3600')
        .min(5, 'must be a number of seconds from 5 to 3600: NMEA sentences arrive up to about 1 s after their time')
        .max(3600, 'must be a number of seconds from 5 to 3600')
        .default(DEFAULT_CLOCK_MAX_OFFSET_SECONDS),
      /** Consecutive GNSS fixes that must agree before the clock alert is raised or cleared; 1-120, default 5. */
      clockConsecutiveFixes: z
        .number({ error: 'must be a number of fixes from 1 to 120' })
        .int('must be a whole number of fixes from 1 to 120')
        .min(1, 'must be a number of fixes from 1 to 120')
        .max(120, 'must be a number of fixes from 1 to 120')
        .default(DEFAULT_CLOCK_CONSECUTIVE_FIXES),
      /** Minutes a received set may wait for its chunks or base version after its effective time; 0-10080, default 60. */
      parameterGraceMinutes: z
        .number({ error: 'must be a number of minutes from 0 to 10080' })
        .int('must be a whole number of minutes from 0 to 10080')
        .min(0, 'must be a number of minutes from 0 to 10080')
        .max(10_080, 'must be a number of minutes from 0 to 10080')
        .default(DEFAULT_PARAMETER_GRACE_MINUTES),
      /** Hours without a broker connection after which parameter sets count as outdated; 1-720, default 24. */
      parameterMaxOfflineHours: z
        .number({ error: 'must be a number of hours from 1 to 720' })
        .int('must be a whole number of hours from 1 to 720')
        .min(1, 'must be a number of hours from 1 to 720')
        .max(720, 'must be a number of hours from 1 to 720')
        .default(DEFAULT_PARAMETER_MAX_OFFLINE_HOURS),
    })
    .optional(),
});

export type TerminalConfig = z.infer<typeof terminalConfigSchema>;

export class TerminalConfigError extends Error {
  /** The problems in English, as the message and logs print them. */
  readonly problems: string[];

  constructor(
    readonly source: string,
    private readonly problemTexts: readonly ProblemText[],
  ) {
    const problems = problemTextsIn(problemTexts, 'en');
    super(`invalid terminal configuration (${source}):\n${problems.map((problem) => `  ${problem}`).join('\n')}`);
    this.name = 'TerminalConfigError';
    this.problems = problems;
  }

  /** Returns the problems in the language, for a person reading the command's output. */
  problemsIn(language: Language): string[] {
    return problemTextsIn(this.problemTexts, language);
  }
}

/** Reads and validates a config file; throws TerminalConfigError listing every problem. */
export function loadTerminalConfig(path: string): TerminalConfig {
  let text: string;
  try {
    text = readFileSync(path, 'utf8');
  } catch (error) {
    throw new TerminalConfigError(path, [fileErrorEntry('cli.fileUnreadable', error)]);
  }
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch (error) {
    throw new TerminalConfigError(path, [cliTextEntry('cli.jsonInvalid', { message: (error as Error).message })]);
  }
  const parsed = terminalConfigSchema.safeParse(value);
  if (!parsed.success) throw new TerminalConfigError(path, zodIssueEntries(parsed.error.issues, { rootName: '(config)' }));
  return parsed.data;
}
