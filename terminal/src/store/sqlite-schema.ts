import type { Migrations } from './sqlite-file.js';

/** Schema of the terminal's transaction database; see Migrations for the rules. */
export const TRANSACTION_MIGRATIONS: Migrations = [
  '',
  `
  CREATE TABLE meta (
    key TEXT PRIMARY KEY,
    value INTEGER NOT NULL
  ) STRICT;
  INSERT INTO meta (key, value) VALUES ('last_sequence', 0), ('acked_through', 0);

  CREATE TABLE records (
    sequence INTEGER PRIMARY KEY,
    state TEXT NOT NULL CHECK (state IN ('pending', 'ready')),
    kind TEXT NOT NULL CHECK (kind IN ('purchase', 'in-doubt', 'resolution')),
    asn TEXT NOT NULL,
    acknowledged INTEGER NOT NULL DEFAULT 0 CHECK (acknowledged IN (0, 1)),
    in_doubt_open INTEGER NOT NULL DEFAULT 0 CHECK (in_doubt_open IN (0, 1)),
    occurred_at_ms INTEGER NOT NULL,
    record_json TEXT NOT NULL
  ) STRICT;
  CREATE INDEX records_pending ON records (sequence) WHERE state = 'pending';
  CREATE INDEX records_unacknowledged ON records (sequence) WHERE acknowledged = 0;
  CREATE INDEX records_acknowledged_by_time ON records (occurred_at_ms) WHERE acknowledged = 1;
  CREATE INDEX records_open_in_doubt ON records (asn, sequence) WHERE in_doubt_open = 1;
  `,
  // Version 2 admits lock records. SQLite cannot change a CHECK constraint in place, so the table
  // is rebuilt with its rows and indexes.
  `
  CREATE TABLE records_v2 (
    sequence INTEGER PRIMARY KEY,
    state TEXT NOT NULL CHECK (state IN ('pending', 'ready')),
    kind TEXT NOT NULL CHECK (kind IN ('purchase', 'in-doubt', 'resolution', 'lock')),
    asn TEXT NOT NULL,
    acknowledged INTEGER NOT NULL DEFAULT 0 CHECK (acknowledged IN (0, 1)),
    in_doubt_open INTEGER NOT NULL DEFAULT 0 CHECK (in_doubt_open IN (0, 1)),
    occurred_at_ms INTEGER NOT NULL,
    record_json TEXT NOT NULL
  ) STRICT;
  INSERT INTO records_v2 (sequence, state, kind, asn, acknowledged, in_doubt_open, occurred_at_ms, record_json)
    SELECT sequence, state, kind, asn, acknowledged, in_doubt_open, occurred_at_ms, record_json FROM records;
  DROP TABLE records;
  ALTER TABLE records_v2 RENAME TO records;
  CREATE INDEX records_pending ON records (sequence) WHERE state = 'pending';
  CREATE INDEX records_unacknowledged ON records (sequence) WHERE acknowledged = 0;
  CREATE INDEX records_acknowledged_by_time ON records (occurred_at_ms) WHERE acknowledged = 1;
  CREATE INDEX records_open_in_doubt ON records (asn, sequence) WHERE in_doubt_open = 1;
  `,
  // Version 3 keeps a copy of every record whose stored text was found damaged. The bytes are
  // copied as a BLOB, so text that is no longer valid UTF-8 is kept exactly, and pruning, which
  // deletes from records only, never removes them.
  `
  CREATE TABLE quarantined_records (
    sequence INTEGER PRIMARY KEY,
    record_bytes BLOB NOT NULL,
    reason TEXT NOT NULL,
    quarantined_at_ms INTEGER NOT NULL
  ) STRICT;
  `,
];
