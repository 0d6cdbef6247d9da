import { z } from 'zod';

/** Terminal ids appear in MQTT topics, so they are restricted to characters safe in a topic level. */
export const terminalIdSchema = z.string().regex(/^[A-Za-z0-9_-]{1,32}$/, 'terminal id must be 1-32 letters, digits, "_" or "-"');
export const hexSchema = (bytes: number) => z.string().regex(new RegExp(`^[0-9A-F]{${bytes * 2}}$`), `expected ${bytes} bytes as upper-case hex`);
export const isoTimeSchema = z.iso.datetime({ offset: true });
export const fenSchema = z.number().int().min(0).max(100_000_000);
