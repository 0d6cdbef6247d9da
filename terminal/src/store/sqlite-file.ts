import Database from 'better-sqlite3';
import type { Logger } from '../logger.js';

/** The database file cannot be used: SQLite finds damage, or the schema is newer than this software. */
export class DatabaseFileError extends Error {
  readonly code: 'corrupt' | 'unsupported-schema';

  constructor(code: 'corrupt' | 'unsupported-schema', message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.name = 'DatabaseFileError';
    this.code = code;
  }
}

export interface DurableDatabaseOptions {
  /**
   * `quick` runs PRAGMA quick_check at open, `full` the slower PRAGMA integrity_check, and `none`
   * skips the check for a caller that has just checked the file itself.
   */
  integrityCheck?: 'quick' | 'full' | 'none';
  /** Milliseconds a statement waits for a lock held by another connection. */
  busyTimeoutMs?: number;
  /**
   * Upper limit of the file in database pages (PRAGMA max_page_count), so the outbox cannot take
   * the space the operating system needs. Writes beyond it fail with SQLITE_FULL.
   */
  maxPageCount?: number;
  logger?: Logger;
}

/**
 * Schema steps indexed by the `PRAGMA user_version` they produce; index 0 is unused. Append new
 * steps and never edit a released one.
 */
export type Migrations = ReadonlyArray<string>;

const SQLITE_CORRUPTION_CODES = new Set(['SQLITE_CORRUPT', 'SQLITE_NOTADB', 'SQLITE_CORRUPT_INDEX', 'SQLITE_CORRUPT_SEQUENCE', 'SQLITE_CORRUPT_VTAB']);

/**
 * Opens a SQLite file for records that must survive a power cut: checked, WAL journal,
 * synchronous=FULL (a commit is on disk when it returns) and schema brought up to date.
 * Throws DatabaseFileError for a damaged file or a schema from newer software.
 */
export function openDurableDatabase(path: string, migrations: Migrations, options: DurableDatabaseOptions = {}): Database.Database {
  let db: Database.Database | undefined;
  try {
    db = new Database(path);
    db.pragma(`busy_timeout = ${Math.trunc(options.busyTimeoutMs ?? 5000)}`);
    if (options.integrityCheck !== 'none') checkIntegrity(db, path, options.integrityCheck ?? 'quick');
    const journalMode = db.pragma('journal_mode = WAL', { simple: true });
    if (journalMode !== 'wal') throw new Error(`failed to switch ${path} to WAL mode (journal_mode is ${String(journalMode)})`);
    db.pragma('synchronous = FULL');
    migrate(db, path, migrations);
    if (options.maxPageCount !== undefined) db.pragma(`max_page_count = ${Math.trunc(options.maxPageCount)}`);
    return db;
  } catch (error) {
    db?.close();
    throw asFileError(error, path);
  }
}

export function schemaVersionOf(migrations: Migrations): number {
  return migrations.length - 1;
}

function migrate(db: Database.Database, path: string, migrations: Migrations): void {
  const supported = schemaVersionOf(migrations);
  const current = db.pragma('user_version', { simple: true }) as number;
  if (current > supported) {
    throw new DatabaseFileError(
      'unsupported-schema',
      `database ${path} has schema version ${current}, newer than version ${supported} that this software supports; install the newer software or restore a matching backup`,
    );
  }
  for (let version = current + 1; version <= supported; version += 1) {
    db.transaction(() => {
      db.exec(migrations[version] ?? '');
      db.pragma(`user_version = ${version}`);
    })();
  }
}

/**
 * Runs SQLite's own consistency check and throws `corrupt` with its findings. The caller decides
 * what to do with the file; the outbox moves it aside and salvages it (database-salvage.ts).
 */
function checkIntegrity(db: Database.Database, path: string, mode: 'quick' | 'full'): void {
  const pragma = mode === 'full' ? 'integrity_check' : 'quick_check';
  const findings = db.pragma(`${pragma}(20)`) as Array<Record<string, string>>;
  const messages = findings.map((row) => Object.values(row)[0] ?? '');
  if (messages.length === 1 && messages[0] === 'ok') return;
  throw new DatabaseFileError('corrupt', `database ${path} failed PRAGMA ${pragma}: ${messages.join('; ')}; keep the file for recovery and do not delete it`);
}

/** Returns whether an error is SQLite's report of a damaged or foreign file. */
export function isCorruptionError(error: unknown): boolean {
  const code = (error as { code?: unknown } | null)?.code;
  return typeof code === 'string' && SQLITE_CORRUPTION_CODES.has(code);
}

/**
 * Whether an error is SQLite's "database or disk is full" (the disk, or max_page_count). A commit
 * whose frames need a new 32 KiB region of the WAL index (-shm) fails with SQLITE_IOERR_SHMSIZE
 * instead when the disk is full, even while the WAL file has room for the frames themselves.
 */
export function isStorageFullError(error: unknown): boolean {
  const code = (error as { code?: unknown } | null)?.code;
  return code === 'SQLITE_FULL' || code === 'ENOSPC' || code === 'SQLITE_IOERR_SHMSIZE';
}

function asFileError(error: unknown, path: string): Error {
  if (error instanceof DatabaseFileError) return error;
  const code = (error as { code?: unknown }).code;
  if (typeof code === 'string' && SQLITE_CORRUPTION_CODES.has(code)) {
    const reason = error instanceof Error ? error.message : String(error);
    return new DatabaseFileError('corrupt', `database ${path} is not a readable SQLite database (${code}: ${reason}); keep the file for recovery and do not delete it`, { cause: error });
  }
  return error instanceof Error ? error : new Error(String(error));
}
