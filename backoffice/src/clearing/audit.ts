import type { SqliteOperatorStore } from '../store/operator-store.js';

/** Appends one entry to the audit log: who did what to which item, with the details. */
export type AuditRecorder = (operator: string, action: string, target: string, details: Record<string, unknown>) => void;

/**
 * A runner of a change and its audit entry in one transaction, so that neither is stored without
 * the other when a write fails (a full disk, say).
 */
export type Atomic = <T>(work: () => T) => T;

/** Runs the work as it is, for services whose store has no transaction to join. */
export const withoutTransaction: Atomic = (work) => work();

export function auditRecorder(store: SqliteOperatorStore): AuditRecorder {
  return (operator, action, target, details) => {
    store.appendAudit({ operator, action, target, details });
  };
}
