/**
 * Tables of the clearing centre's own work, kept in the clearing database beside the ingest
 * tables: settlement, issuer verification, batch receipts, exception handling, customer service,
 * operator accounts and the audit log. Statements are idempotent, as in the ingest schema.
 */
export const CLEARING_CENTRE_SCHEMA_SQL = `
CREATE INDEX IF NOT EXISTS transactions_asn ON transactions (asn, occurred_at);
CREATE INDEX IF NOT EXISTS transactions_occurred ON transactions (occurred_at);

CREATE TABLE IF NOT EXISTS settlement_days (
  business_day TEXT PRIMARY KEY,
  settled_at TEXT NOT NULL,
  settled_by TEXT NOT NULL,
  record_count INTEGER NOT NULL,
  amount_fen INTEGER NOT NULL,
  report_json TEXT NOT NULL
);

-- One row per settled item: a transaction (terminal_id, sequence) or an adjustment ('adjustment', id).
CREATE TABLE IF NOT EXISTS settlement_entries (
  terminal_id TEXT NOT NULL,
  sequence INTEGER NOT NULL,
  settlement_day TEXT NOT NULL,
  PRIMARY KEY (terminal_id, sequence)
);
CREATE INDEX IF NOT EXISTS settlement_entries_day ON settlement_entries (settlement_day);

CREATE TABLE IF NOT EXISTS issuer_verdicts (
  terminal_id TEXT NOT NULL,
  sequence INTEGER NOT NULL,
  verdict TEXT NOT NULL CHECK (verdict IN ('confirmed', 'refused')),
  reason TEXT,
  source_file TEXT NOT NULL,
  recorded_at TEXT NOT NULL,
  PRIMARY KEY (terminal_id, sequence)
);

CREATE TABLE IF NOT EXISTS forwarded_records (
  terminal_id TEXT NOT NULL,
  sequence INTEGER NOT NULL,
  partner_city TEXT NOT NULL,
  file_name TEXT NOT NULL,
  forwarded_at TEXT NOT NULL,
  PRIMARY KEY (terminal_id, sequence)
);

CREATE TABLE IF NOT EXISTS batch_receipts (
  id INTEGER PRIMARY KEY,
  terminal_id TEXT NOT NULL,
  batch_id TEXT NOT NULL,
  business_day TEXT NOT NULL,
  stored INTEGER NOT NULL,
  duplicates INTEGER NOT NULL,
  received_at TEXT NOT NULL
);
CREATE INDEX IF NOT EXISTS batch_receipts_day ON batch_receipts (business_day);

CREATE TABLE IF NOT EXISTS exception_actions (
  id INTEGER PRIMARY KEY,
  queue TEXT NOT NULL CHECK (queue IN ('rejected', 'in-doubt')),
  item_key TEXT NOT NULL,
  action TEXT NOT NULL CHECK (action IN ('reprocessed', 'resolved', 'written-off')),
  reason TEXT NOT NULL,
  operator TEXT NOT NULL,
  at TEXT NOT NULL,
  details_json TEXT NOT NULL
);
CREATE INDEX IF NOT EXISTS exception_actions_item ON exception_actions (queue, item_key);

CREATE TABLE IF NOT EXISTS in_doubt_decisions (
  terminal_id TEXT NOT NULL,
  sequence INTEGER NOT NULL,
  outcome TEXT NOT NULL CHECK (outcome IN ('debited', 'not-debited')),
  reason TEXT NOT NULL,
  decided_by TEXT NOT NULL,
  decided_at TEXT NOT NULL,
  matched_terminal_id TEXT,
  matched_sequence INTEGER,
  PRIMARY KEY (terminal_id, sequence)
);

CREATE TABLE IF NOT EXISTS adjustments (
  id INTEGER PRIMARY KEY,
  kind TEXT NOT NULL CHECK (kind IN ('refund', 'adjustment', 'balance-transfer')),
  asn TEXT NOT NULL,
  target_asn TEXT,
  amount_fen INTEGER NOT NULL,
  reason TEXT NOT NULL,
  requested_by TEXT NOT NULL,
  requested_at TEXT NOT NULL,
  state TEXT NOT NULL CHECK (state IN ('pending', 'approved', 'declined')),
  decided_by TEXT,
  decided_at TEXT,
  business_day TEXT
);

CREATE TABLE IF NOT EXISTS vehicle_operators (
  vehicle_id TEXT PRIMARY KEY,
  operator_id TEXT NOT NULL
);

CREATE TABLE IF NOT EXISTS operator_accounts (
  username TEXT PRIMARY KEY,
  display_name TEXT NOT NULL,
  role TEXT NOT NULL CHECK (role IN ('viewer', 'operator', 'administrator')),
  password_hash TEXT NOT NULL,
  disabled INTEGER NOT NULL DEFAULT 0,
  created_at TEXT NOT NULL
);

CREATE TABLE IF NOT EXISTS operator_sessions (
  token_sha256 TEXT PRIMARY KEY,
  username TEXT NOT NULL,
  created_at TEXT NOT NULL,
  expires_at TEXT NOT NULL
);

CREATE TABLE IF NOT EXISTS audit_log (
  id INTEGER PRIMARY KEY,
  at TEXT NOT NULL,
  operator TEXT NOT NULL,
  action TEXT NOT NULL,
  target TEXT NOT NULL,
  details_json TEXT NOT NULL
);
`;
