import Database from 'better-sqlite3';
import type { TransactionRecord } from '@busfare/shared-protocol';
import type { OpenInDoubt } from './transaction-store.js';

/** Counters and open in-doubt records of an outbox, read by another process. */
export interface OutboxSnapshot {
  lastSequence: number;
  ackedThrough: number;
  backlog: number;
  openInDoubt: OpenInDoubt[];
}

/**
 * Reads an outbox file over a read-only connection while the terminal process that owns it may
 * be running (WAL lets readers and one writer work at once). For benches, fault tests and
 * service tools; the terminal itself uses its TransactionStore.
 */
export function readOutboxSnapshot(path: string): OutboxSnapshot {
  const db = new Database(path, { readonly: true, fileMustExist: true });
  try {
    db.pragma('busy_timeout = 5000');
    const meta = (key: string) => db.prepare<[string], { value: number }>('SELECT value FROM meta WHERE key = ?').get(key)?.value ?? 0;
    // Every row up to acked_through is acknowledged, and only the last of them is flagged.
    const backlog = db.prepare<[number], { count: number }>('SELECT COUNT(*) AS count FROM records WHERE acknowledged = 0 AND sequence > ?').get(meta('acked_through'))?.count ?? 0;
    const openInDoubt = db
      .prepare<[], { sequence: number; record_json: string }>('SELECT sequence, record_json FROM records WHERE in_doubt_open = 1 ORDER BY sequence')
      .all()
      .map((row) => ({ sequence: row.sequence, record: JSON.parse(row.record_json) as TransactionRecord }));
    return { lastSequence: meta('last_sequence'), ackedThrough: meta('acked_through'), backlog, openInDoubt };
  } finally {
    db.close();
  }
}
