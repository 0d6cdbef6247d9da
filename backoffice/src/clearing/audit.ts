import type { SqliteOperatorStore } from '../store/operator-store.js';

/** Appends one entry to the audit log: who did what to which item, with the details. */
export type AuditRecorder = (operator: string, action: string, target: string, details: Record<string, unknown>) => void;

export function auditRecorder(store: SqliteOperatorStore): AuditRecorder {
  return (operator, action, target, details) => {
    store.appendAudit({ operator, action, target, details });
  };
}
