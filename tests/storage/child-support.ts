// Helpers of the full-disk child scripts, which run inside a private mount namespace.
import { statfsSync, writeFileSync } from 'node:fs';
import { Writable } from 'node:stream';
import pino, { type Logger } from 'pino';

/** A warning or error the child logged, as the report carries it. */
export interface LoggedLine {
  level: number;
  msg: string;
  err?: string;
}

/** Returns a logger and the warnings and errors it has written so far, for the child's report. */
export function collectingLogger(): { logger: Logger; logs: LoggedLine[] } {
  const logs: LoggedLine[] = [];
  const sink = new Writable({
    write(chunk: Buffer, _encoding, done) {
      for (const line of chunk.toString().split('\n')) {
        if (line === '') continue;
        const entry = JSON.parse(line) as { level: number; msg: string; err?: { message?: string } };
        if (entry.level >= 40) logs.push({ level: entry.level, msg: entry.msg, ...(entry.err?.message ? { err: entry.err.message } : {}) });
      }
      done();
    },
  });
  return { logger: pino({ level: 'info', serializers: { err: pino.stdSerializers.errWithCause } }, sink), logs };
}

/** Returns the bytes an unprivileged writer may still use on the file system of `directory`. */
export function freeBytes(directory: string): number {
  const stats = statfsSync(directory);
  return stats.bavail * stats.bsize;
}

/** Writes a filler file that takes the free space of its file system but `leaveBytes`. */
export function fillDisk(fillerPath: string, directory: string, leaveBytes: number): void {
  writeFileSync(fillerPath, Buffer.alloc(Math.max(0, freeBytes(directory) - leaveBytes)));
}
