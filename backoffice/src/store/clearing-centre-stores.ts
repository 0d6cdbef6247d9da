import type Database from 'better-sqlite3';
import { SqliteExceptionStore } from './exception-store.js';
import { SqliteOperatorStore } from './operator-store.js';
import { SqliteReconciliationStore } from './reconciliation-store.js';
import { SqliteSettlementStore } from './settlement-store.js';

/** The clearing centre's stores, all on the clearing database's connection. */
export interface ClearingCentreStores {
  settlement: SqliteSettlementStore;
  reconciliation: SqliteReconciliationStore;
  exceptions: SqliteExceptionStore;
  operators: SqliteOperatorStore;
}

/** Opens the clearing centre's stores on a database whose schema the clearing repository created. */
export function openClearingCentreStores(db: Database.Database, now: () => Date = () => new Date()): ClearingCentreStores {
  return {
    settlement: new SqliteSettlementStore(db, now),
    reconciliation: new SqliteReconciliationStore(db, now),
    exceptions: new SqliteExceptionStore(db, now),
    operators: new SqliteOperatorStore(db, now),
  };
}
