import { readFileSync } from 'node:fs';
import { z } from 'zod';
import { describeIssues } from './zod-issues.js';

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
    })
    .prefault({}),
  http: z
    .strictObject({
      /** Port of the operator console; 0 picks a free one. */
      port: portSchema.default(8080),
      host: z.string().min(1).default('127.0.0.1'),
    })
    .prefault({}),
  /** JSON file of issuer TAC master keys; without it only out-of-town T-Union records can clear. */
  keys: z.string().min(1).optional(),
  /** Issuer-id prefixes of the city's own card issuers (hex). */
  localIssuerPrefixes: z.array(z.string().regex(/^[0-9A-Fa-f]{2,16}$/, 'issuer prefix must be 2-16 hex digits')).default([]),
  /** Local time 'HH:MM' at which a business day begins. */
  businessDayCutoff: z.string().regex(/^([01]\d|2[0-3]):[0-5]\d$/, 'must be a local time HH:MM').default('00:00'),
  /** Local offset from UTC in minutes; 480 is China Standard Time. */
  timezoneOffsetMinutes: z.number().int().min(-720).max(840).default(480),
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
  constructor(
    readonly source: string,
    readonly problems: string[],
  ) {
    super(`invalid configuration (${source}):\n${problems.map((problem) => `  ${problem}`).join('\n')}`);
    this.name = 'ConfigError';
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
      throw new ConfigError(source, [`cannot read the file: ${error instanceof Error ? error.message : String(error)}`]);
    }
    try {
      fileValue = JSON.parse(text);
    } catch (error) {
      throw new ConfigError(source, [`invalid JSON: ${error instanceof Error ? error.message : String(error)}`]);
    }
  }
  return parseConfig(applyOverrides(fileValue, overrides), source);
}

/** Validates a config value; throws a ConfigError listing every problem. */
export function parseConfig(value: unknown, source = 'config'): BackOfficeConfig {
  const result = backOfficeConfigSchema.safeParse(value);
  if (!result.success) throw new ConfigError(source, describeIssues(result.error));
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

