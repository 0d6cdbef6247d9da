import { closeSync, existsSync, openSync, readSync } from 'node:fs';
import Database from 'better-sqlite3';
import type { Logger } from '../logger.js';
import { highestSequenceInFiles } from './sequence-scan.js';
import { DatabaseFileError, isCorruptionError } from './sqlite-file.js';

/** A WAL file that belongs to another outbox than the database file beside it. */
export class ForeignWalError extends DatabaseFileError {
  constructor(message: string) {
    super('corrupt', message);
  }
}

/** Offset of the application id, a 4-byte big-endian integer, in an SQLite database header. */
const APPLICATION_ID_OFFSET = 68;
const SQLITE_HEADER = Buffer.from('SQLite format 3\0', 'latin1');

/**
 * Checks an outbox file over a read-only connection before the store opens it read-write, and
 * returns whether the check ran. A read-only connection never checkpoints, so a damaged file and
 * its WAL stay as they were found for salvage. Throws DatabaseFileError `corrupt` when:
 * - PRAGMA integrity_check reports damage or SQLite finds the file malformed;
 * - the WAL belongs to another outbox (ForeignWalError). SQLite replays any WAL whose own
 *   checksums hold, so a WAL copied from another outbox would turn this outbox into that one;
 * - the WAL contains a record above last_sequence + 1. SQLite's WAL recovery stops at the first frame
 *   whose checksum fails and drops every commit after it without an error, so numbering would
 *   restart inside sequences that were already sent. One transaction allocates at most one
 *   sequence, so a last commit that a crash left unfinished contains at most last_sequence + 1.
 * Other errors (a file SQLite cannot open read-only) return false, and the store's own check runs.
 */
export function checkOutboxFile(path: string, logger: Logger): boolean {
  if (!existsSync(path)) return false;
  const fileId = readApplicationId(path);
  const highestInWal = highestSequenceInFiles([`${path}-wal`]);
  let db: Database.Database | undefined;
  try {
    db = new Database(path, { readonly: true, fileMustExist: true });
    db.pragma('busy_timeout = 5000');
    const findings = (db.pragma('integrity_check(20)') as Array<Record<string, string>>).map((row) => Object.values(row)[0] ?? '');
    if (findings.length !== 1 || findings[0] !== 'ok') {
      throw new DatabaseFileError('corrupt', `database ${path} failed PRAGMA integrity_check: ${findings.join('; ')}; keep the file for recovery and do not delete it`);
    }
    const hasMeta = db.prepare("SELECT 1 FROM sqlite_schema WHERE type = 'table' AND name = 'meta'").get() !== undefined;
    if (!hasMeta) return true;
    const meta = (key: string) => db!.prepare<[string], { value: number }>('SELECT value FROM meta WHERE key = ?').get(key)?.value;

    // NOTE: a foreign WAL that contains neither page 1 nor the meta page (it only completed records) is not noticed.
    if (fileId !== undefined && fileId !== 0) {
      const foreignId = [Number(db.pragma('application_id', { simple: true })), meta('outbox_id') ?? fileId].find((id) => id !== fileId);
      if (foreignId !== undefined) throw new ForeignWalError(`WAL file of ${path} belongs to another outbox (id ${foreignId}, the database file has ${fileId})`);
    }

    // NOTE: when only the last commit is dropped, its sequence is last_sequence + 1 and goes unnoticed.
    const lastSequence = meta('last_sequence') ?? 0;
    if (highestInWal > lastSequence + 1) {
      throw new DatabaseFileError('corrupt', `WAL file of ${path} contains sequence ${highestInWal} above last_sequence ${lastSequence}, so SQLite dropped commits after a damaged WAL frame; the outbox is salvaged`);
    }
    return true;
  } catch (error) {
    if (error instanceof DatabaseFileError) throw error;
    if (isCorruptionError(error)) throw new DatabaseFileError('corrupt', `database ${path} is not readable: ${(error as Error).message}; keep the file for recovery and do not delete it`, { cause: error });
    logger.warn({ err: error, path }, 'read-only check of the transaction database failed, so the store checks it on open');
    return false;
  } finally {
    db?.close();
  }
}

/** Reads the application id in the database file's header; undefined when the header is not SQLite's. */
function readApplicationId(path: string): number | undefined {
  const header = Buffer.alloc(100);
  const descriptor = openSync(path, 'r');
  try {
    if (readSync(descriptor, header, 0, header.length, 0) < header.length) return undefined;
  } finally {
    closeSync(descriptor);
  }
  if (!header.subarray(0, SQLITE_HEADER.length).equals(SQLITE_HEADER)) return undefined;
  return header.readInt32BE(APPLICATION_ID_OFFSET);
}
