/**
 * Tables of the clearing database. Statements are idempotent so that opening an existing file
 * applies nothing twice. The transactions table keeps the record as received (canonical JSON) next
 * to the columns that queries need.
 */
export const CLEARING_SCHEMA_SQL = `
CREATE TABLE IF NOT EXISTS transactions (
  terminal_id TEXT NOT NULL,
  sequence INTEGER NOT NULL,
  kind TEXT NOT NULL CHECK (kind IN ('purchase', 'in-doubt', 'resolution')),
  asn TEXT NOT NULL,
  issuer_id TEXT NOT NULL,
  card_type TEXT NOT NULL,
  amount_fen INTEGER NOT NULL,
  occurred_at TEXT NOT NULL,
  business_day TEXT NOT NULL,
  verification TEXT NOT NULL CHECK (verification IN ('verified', 'queued-for-issuer', 'not-applicable')),
  resolves_sequence INTEGER,
  outcome TEXT CHECK (outcome IS NULL OR outcome IN ('debited', 'not-debited')),
  route TEXT,
  vehicle_id TEXT NOT NULL,
  raw_json TEXT NOT NULL,
  received_at TEXT NOT NULL,
  UNIQUE (terminal_id, sequence)
);
CREATE INDEX IF NOT EXISTS transactions_resolves ON transactions (terminal_id, resolves_sequence) WHERE kind = 'resolution';
CREATE INDEX IF NOT EXISTS transactions_in_doubt ON transactions (terminal_id, sequence) WHERE kind = 'in-doubt';
CREATE INDEX IF NOT EXISTS transactions_day ON transactions (business_day, terminal_id);

CREATE TABLE IF NOT EXISTS rejected (
  id INTEGER PRIMARY KEY,
  terminal_id TEXT NOT NULL,
  topic TEXT NOT NULL,
  sequence INTEGER,
  reason TEXT NOT NULL,
  payload TEXT NOT NULL,
  payload_sha256 TEXT NOT NULL,
  received_at TEXT NOT NULL,
  UNIQUE (terminal_id, payload_sha256)
);
CREATE INDEX IF NOT EXISTS rejected_sequence ON rejected (terminal_id, sequence) WHERE sequence IS NOT NULL;
CREATE INDEX IF NOT EXISTS rejected_payloads ON rejected (terminal_id, received_at) WHERE sequence IS NULL;

CREATE TABLE IF NOT EXISTS terminal_progress (
  terminal_id TEXT PRIMARY KEY,
  contiguous_through INTEGER NOT NULL DEFAULT 0,
  highest_seen INTEGER NOT NULL DEFAULT 0,
  duplicates INTEGER NOT NULL DEFAULT 0,
  updated_at TEXT NOT NULL
);

CREATE TABLE IF NOT EXISTS positions (
  terminal_id TEXT NOT NULL,
  vehicle_id TEXT NOT NULL,
  time TEXT NOT NULL,
  lat REAL NOT NULL,
  lon REAL NOT NULL,
  speed_mps REAL,
  course_deg REAL,
  hdop REAL,
  satellites INTEGER,
  route TEXT,
  direction INTEGER,
  trip_id TEXT,
  stop_id TEXT,
  received_at TEXT NOT NULL,
  PRIMARY KEY (terminal_id, time)
);

CREATE TABLE IF NOT EXISTS terminal_status (
  terminal_id TEXT PRIMARY KEY,
  state TEXT NOT NULL,
  at TEXT NOT NULL,
  status_json TEXT NOT NULL,
  received_at TEXT NOT NULL
);

CREATE TABLE IF NOT EXISTS shifts (
  terminal_id TEXT NOT NULL,
  shift_id TEXT NOT NULL,
  driver_id TEXT NOT NULL,
  started_at TEXT NOT NULL,
  ended_at TEXT NOT NULL,
  first_sequence INTEGER,
  last_sequence INTEGER,
  accepted INTEGER NOT NULL,
  amount_fen INTEGER NOT NULL,
  record_json TEXT NOT NULL,
  received_at TEXT NOT NULL,
  PRIMARY KEY (terminal_id, shift_id)
);
`;
