import { readFileSync } from 'node:fs';
import { z } from 'zod';

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
});

export type TerminalConfig = z.infer<typeof terminalConfigSchema>;

export class TerminalConfigError extends Error {
  constructor(
    readonly source: string,
    readonly problems: string[],
  ) {
    super(`invalid terminal configuration (${source}):\n${problems.map((problem) => `  ${problem}`).join('\n')}`);
    this.name = 'TerminalConfigError';
  }
}

/** Reads and validates a config file; throws TerminalConfigError listing every problem. */
export function loadTerminalConfig(path: string): TerminalConfig {
  let text: string;
  try {
    text = readFileSync(path, 'utf8');
  } catch (error) {
    throw new TerminalConfigError(path, [`cannot read the file: ${(error as Error).message}`]);
  }
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch (error) {
    throw new TerminalConfigError(path, [`invalid JSON: ${(error as Error).message}`]);
  }
  const parsed = terminalConfigSchema.safeParse(value);
  if (!parsed.success) throw new TerminalConfigError(path, parsed.error.issues.map((issue) => `${issue.path.join('.') || '(config)'}: ${issue.message}`));
  return parsed.data;
}
