import { readFileSync } from 'node:fs';
import { type Language, type ProblemText, cliTextEntry, fileErrorEntry, problemTextsIn, zodIssueEntries } from '@busfare/shared-protocol';
import { z } from 'zod';

/** Paths of a PEM certificate chain and its private key, and optionally of a CA bundle. */
const tlsFilesSchema = z.strictObject({
  cert: z.string().min(1),
  key: z.string().min(1),
  /** CA certificates: for the broker, the CA its in-process clients trust; clients pin it too. */
  ca: z.string().min(1).optional(),
});

const LOOPBACK_HOSTS = new Set(['127.0.0.1', '::1', 'localhost']);

const portSchema = z.number().int().min(0, 'port must be 0 (any free port) or 1-65535').max(65535, 'port must be at most 65535');

/** Back-office configuration. Unknown keys are errors, so a misspelt key cannot pass unnoticed. */
export const backOfficeConfigSchema = z.strictObject({
  /** SQLite database file. */
  db: z.string().min(1).default('busfare-backoffice.db'),
  mqtt: z
    .strictObject({
      /** Port of the embedded broker; 0 picks a free one. */
      port: portSchema.default(1883),
      host: z.string().min(1).default('127.0.0.1'),
      /** An external broker (mosquitto, EMQX) to use in place of the embedded one. */
      externalUrl: z.url({ protocol: /^mqtts?$/, error: 'must be an mqtt:// or mqtts:// URL' }).optional(),
      /**
       * The embedded broker admits only terminals registered with `busfare-backoffice terminals add`
       * and limits each to its own topics. An external broker applies its own access control.
       */
      terminalCredentials: z.boolean().default(true),
      /** User name and password of the back office's own clients on an external broker. */
      serviceUsername: z.string().min(1).optional(),
      servicePassword: z.string().min(1).optional(),
      /** Serve MQTT over TLS (mqtts://) with these PEM files; without it plain TCP, loopback only. */
      tls: tlsFilesSchema.optional(),
      /** Limits per terminal in the embedded broker, applied with terminalCredentials (service accounts are exempt). */
      limits: z
        .strictObject({
          /** Largest PUBLISH payload accepted, in bytes. */
          maxPayloadBytes: z.number().int().min(1024).default(1024 * 1024),
          /** Sustained PUBLISH packets per second per terminal. */
          messagesPerSecond: z.number().positive().default(200),
          /** PUBLISH packets a terminal may send at once above the sustained rate. */
          burstMessages: z.number().int().min(1).default(400),
        })
        .prefault({}),
    })
    .refine((mqtt) => mqtt.tls !== undefined || mqtt.externalUrl !== undefined || LOOPBACK_HOSTS.has(mqtt.host), {
      message: 'plain MQTT listens on 127.0.0.1 only: set mqtt.tls to listen on another address',
      path: ['host'],
    })
    .prefault({}),
  http: z
    .strictObject({
      /** Port of the operator console; 0 picks a free one. */
      port: portSchema.default(8080),
      host: z.string().min(1).default('127.0.0.1'),
      /** Serve the console over HTTPS with these PEM files; without it plain HTTP, loopback only. */
      tls: tlsFilesSchema.optional(),
    })
    .refine((http) => http.tls !== undefined || LOOPBACK_HOSTS.has(http.host), {
      message: 'plain HTTP listens on 127.0.0.1 only: set http.tls to listen on another address',
      path: ['host'],
    })
    .prefault({}),
  security: z
    .strictObject({
      /**
       * Reject records whose card evidence was already accepted under another (terminal,
       * sequence), and records whose PSAM is bound to another terminal. Turn it off only for a
       * test that sends the same card evidence from several terminals on purpose.
       */
      evidenceChecks: z.boolean().default(true),
      /** Accept issuer keys marked as test keys (bench and simulator cards); never in production. */
      allowTestKeys: z.boolean().default(false),
    })
    .prefault({}),
  /** Issuer TAC master keys in a hardware security module, in place of the key file. */
  pkcs11: z
    .strictObject({
      /** Path of the token's PKCS#11 module, for example /usr/lib/softhsm/libsofthsm2.so. */
      library: z.string().min(1),
      tokenLabel: z.string().min(1),
      /** Environment variable that holds the token's user PIN, so the PIN stays out of the file. */
      pinVariable: z.string().regex(/^[A-Z_][A-Z0-9_]*$/, 'must be an environment variable name').default('BUSFARE_HSM_PIN'),
    })
    .optional(),
  /** JSON file of issuer TAC master keys; without it only out-of-town T-Union records can clear. */
  keys: z.string().min(1).optional(),
  /**
   * PEM file of the Ed25519 private key that signs parameter sets (mode 0600), made by
   * `busfare-backoffice params keygen`; terminals pin its public key.
   */
  parameterSigningKey: z.string().min(1).optional(),
  /** Issuer-id prefixes of the city's own card issuers (hex). */
  localIssuerPrefixes: z.array(z.string().regex(/^[0-9A-Fa-f]{2,16}$/, 'issuer prefix must be 2-16 hex digits')).default([]),
  /** Local time 'HH:MM' at which a business day begins. */
  businessDayCutoff: z.string().regex(/^([01]\d|2[0-3]):[0-5]\d$/, 'must be a local time HH:MM').default('00:00'),
  /** Local offset from UTC in minutes; 480 is China Standard Time. */
  timezoneOffsetMinutes: z.number().int().min(-720).max(840).default(480),
  /** Arrival predictions: a GTFS folder of the routes (off without it) and the refresh interval in seconds. */
  arrivals: z.strictObject({ gtfs: z.string().min(1).optional(), refreshSeconds: z.number().min(1).max(30).default(10), historyDays: z.number().int().min(0).max(366).default(0) }).prefault({}),
});

export type BackOfficeConfig = z.infer<typeof backOfficeConfigSchema>;
export type BackOfficeConfigInput = z.input<typeof backOfficeConfigSchema>;

/** Command-line values that replace the config file's values. */
export interface ConfigOverrides {
  db?: string;
  mqttPort?: number;
  httpPort?: number;
  brokerUrl?: string;
  keys?: string;
}

export class ConfigError extends Error {
  /** The problems in English, as the message and logs print them. */
  readonly problems: string[];

  constructor(
    readonly source: string,
    private readonly problemTexts: readonly ProblemText[],
  ) {
    const problems = problemTextsIn(problemTexts, 'en');
    super(`invalid configuration (${source}):\n${problems.map((problem) => `  ${problem}`).join('\n')}`);
    this.name = 'ConfigError';
    this.problems = problems;
  }

  /** Returns the problems in the language, for a person reading the command's output. */
  problemsIn(language: Language): string[] {
    return problemTextsIn(this.problemTexts, language);
  }
}

/**
 * Reads the config file (if any), applies the overrides and validates the result. Throws a
 * ConfigError listing every problem found.
 */
export function loadConfig(path: string | undefined, overrides: ConfigOverrides = {}): BackOfficeConfig {
  const source = path ?? 'defaults';
  let fileValue: unknown = {};
  if (path !== undefined) {
    let text: string;
    try {
      text = readFileSync(path, 'utf8');
    } catch (error) {
      throw new ConfigError(source, [fileErrorEntry('cli.fileUnreadable', error)]);
    }
    try {
      fileValue = JSON.parse(text);
    } catch (error) {
      throw new ConfigError(source, [cliTextEntry('cli.jsonInvalid', { message: error instanceof Error ? error.message : String(error) })]);
    }
  }
  return parseConfig(applyOverrides(fileValue, overrides), source);
}

/** Validates a config value; throws a ConfigError listing every problem. */
export function parseConfig(value: unknown, source = 'config'): BackOfficeConfig {
  const result = backOfficeConfigSchema.safeParse(value);
  if (!result.success) throw new ConfigError(source, zodIssueEntries(result.error.issues));
  return result.data;
}

function applyOverrides(fileValue: unknown, overrides: ConfigOverrides): unknown {
  // A file that is not an object is left as it is, so validation reports it.
  if (typeof fileValue !== 'object' || fileValue === null || Array.isArray(fileValue)) return fileValue;
  const merged: Record<string, unknown> = { ...(fileValue as Record<string, unknown>) };
  const section = (name: string): Record<string, unknown> => {
    const current = merged[name];
    const copy = typeof current === 'object' && current !== null && !Array.isArray(current) ? { ...(current as Record<string, unknown>) } : {};
    merged[name] = copy;
    return copy;
  };

  if (overrides.db !== undefined) merged.db = overrides.db;
  if (overrides.keys !== undefined) merged.keys = overrides.keys;
  if (overrides.mqttPort !== undefined) section('mqtt').port = overrides.mqttPort;
  if (overrides.brokerUrl !== undefined) section('mqtt').externalUrl = overrides.brokerUrl;
  if (overrides.httpPort !== undefined) section('http').port = overrides.httpPort;
  return merged;
}

