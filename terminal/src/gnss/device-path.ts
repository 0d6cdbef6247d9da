import { existsSync, readdirSync } from 'node:fs';
import { basename, dirname, join } from 'node:path';

function wildcardToRegExp(pattern: string): RegExp {
  const escaped = pattern.replace(/[.+^${}()|[\]\\]/g, '\\$&').replace(/\*/g, '.*').replace(/\?/g, '.');
  return new RegExp(`^${escaped}$`);
}

/**
 * Paths matching a pattern whose last segment may hold `*` and `?` (for example
 * `/dev/serial/by-id/usb-u-blox*`), sorted by name. A missing directory gives no match.
 */
export function matchDevicePaths(pattern: string): string[] {
  const directory = dirname(pattern);
  const matcher = wildcardToRegExp(basename(pattern));
  let names: string[];
  try {
    names = readdirSync(directory);
  } catch {
    return [];
  }
  return names.filter((name) => matcher.test(name)).sort().map((name) => join(directory, name));
}

/** Returns the configured path while it exists, else the first path matching the rescan pattern. */
export function resolveDevicePath(path: string, rescanPattern?: string): string {
  if (existsSync(path) || !rescanPattern) return path;
  return matchDevicePaths(rescanPattern)[0] ?? path;
}
