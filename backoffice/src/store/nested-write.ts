import type Database from 'better-sqlite3';

/**
 * Connections whose current transaction was opened by withoutSavepoints(). better-sqlite3 turns
 * every nested transaction function into a SAVEPOINT. While one is open, SQLite copies each page
 * that a write changes for the first time into a temporary journal, so that a rollback to the
 * savepoint can restore it. For an ingest commit that was more bytes than its WAL frames.
 */
const inlineConnections = new WeakSet<Database.Database>();

/**
 * Raised by a nested write that needs its own savepoint to undo part of its work, while
 * withoutSavepoints() runs. The caller rolls back the whole transaction and runs it again with
 * savepoints.
 */
export class SavepointRequired extends Error {
  constructor(reason: string) {
    super(`a savepoint is required: ${reason}`);
    this.name = 'SavepointRequired';
  }
}

/**
 * Runs `work` in one write transaction (BEGIN IMMEDIATE) in which nestedWrite() calls on the same
 * connection open no savepoint. An error in `work` rolls back everything it wrote.
 */
export function withoutSavepoints<T>(db: Database.Database, work: () => T): T {
  if (db.inTransaction) throw new Error('withoutSavepoints() needs a connection outside a transaction');
  inlineConnections.add(db);
  try {
    return db.transaction(work).immediate();
  } finally {
    inlineConnections.delete(db);
  }
}

/** Tells whether writes on `db` run inside withoutSavepoints(), where no savepoint may be opened. */
export function savepointsOff(db: Database.Database): boolean {
  return inlineConnections.has(db) && db.inTransaction;
}

/**
 * Runs `work` as one unit of writes: inside withoutSavepoints() as part of the open transaction,
 * otherwise in a transaction of its own, or a savepoint when a transaction is open.
 */
export function nestedWrite<T>(db: Database.Database, work: () => T): T {
  if (savepointsOff(db)) return work();
  return db.transaction(work).immediate();
}
