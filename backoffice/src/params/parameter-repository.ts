import Database from 'better-sqlite3';
import type { ParameterKind, ParameterSet } from '@busfare/shared-protocol';

const SCHEMA_SQL = `
CREATE TABLE IF NOT EXISTS parameter_publications (
  kind TEXT NOT NULL,
  version INTEGER NOT NULL,
  mode TEXT,
  effective_from TEXT NOT NULL,
  set_json TEXT NOT NULL,
  chunks BLOB,
  chunk_sizes TEXT,
  created_at TEXT NOT NULL,
  published_at TEXT,
  PRIMARY KEY (kind, version)
);`;

/** A signed parameter set as the back office keeps it, with the bytes of a packed blacklist. */
export interface StoredPublication {
  set: ParameterSet;
  /** Chunks of a packed full blacklist, in index order. */
  chunks?: Buffer[];
  createdAt: string;
  publishedAt?: string;
}

interface PublicationRow {
  set_json: string;
  chunks: Buffer | null;
  chunk_sizes: string | null;
  created_at: string;
  published_at: string | null;
}

/**
 * Returns the highest version of `kind` whose effectiveFrom is at or before `now`, the set a
 * terminal applies then, from the clearing database at `path`. The file is opened read-only and
 * left as it is, so a database without the publications table has no such set.
 */
export function readActivePublication(path: string, kind: ParameterKind, now: Date): StoredPublication | undefined {
  const db = new Database(path, { readonly: true, fileMustExist: true });
  try {
    const table = db.prepare("SELECT 1 FROM sqlite_master WHERE type = 'table' AND name = 'parameter_publications'").get();
    if (table === undefined) return undefined;
    const rows = db.prepare<[string], PublicationRow>('SELECT set_json, chunks, chunk_sizes, created_at, published_at FROM parameter_publications WHERE kind = ? ORDER BY version DESC');
    for (const row of rows.iterate(kind)) {
      const publication = toPublication(row)!;
      if (Date.parse(publication.set.effectiveFrom) <= now.getTime()) return publication;
    }
    return undefined;
  } finally {
    db.close();
  }
}

/**
 * Every parameter set the back office has signed, in the clearing database. It is the outbox of
 * the publication service: authoring (CLI or console) inserts a set, and the running back office
 * publishes each set not yet published and marks it.
 */
export class ParameterRepository {
  private readonly db: Database.Database;
  private readonly statements;

  /** Opens the publications table of the clearing database at `path` (created when missing). */
  constructor(path: string) {
    this.db = new Database(path);
    this.db.pragma('journal_mode = WAL');
    this.db.pragma('synchronous = FULL');
    this.db.pragma('busy_timeout = 5000');
    this.db.exec(SCHEMA_SQL);
    const columns = 'set_json, chunks, chunk_sizes, created_at, published_at';
    this.statements = {
      insert: this.db.prepare<[string, number, string | null, string, string, Buffer | null, string | null, string]>(
        'INSERT INTO parameter_publications (kind, version, mode, effective_from, set_json, chunks, chunk_sizes, created_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?)',
      ),
      latest: this.db.prepare<[string], PublicationRow>(`SELECT ${columns} FROM parameter_publications WHERE kind = ? ORDER BY version DESC LIMIT 1`),
      find: this.db.prepare<[string, number], PublicationRow>(`SELECT ${columns} FROM parameter_publications WHERE kind = ? AND version = ?`),
      latestOfMode: this.db.prepare<[string, string], PublicationRow>(`SELECT ${columns} FROM parameter_publications WHERE kind = ? AND mode = ? ORDER BY version DESC LIMIT 1`),
      unpublished: this.db.prepare<[], PublicationRow>(`SELECT ${columns} FROM parameter_publications WHERE published_at IS NULL ORDER BY created_at, kind, version`),
      markPublished: this.db.prepare<[string, string, number]>('UPDATE parameter_publications SET published_at = ? WHERE kind = ? AND version = ?'),
      maxChunkCount: this.db.prepare<[], { count: number | null }>('SELECT MAX(json_array_length(chunk_sizes)) AS count FROM parameter_publications WHERE chunk_sizes IS NOT NULL'),
      published: this.db.prepare<[], { kind: string; version: number; effectiveFrom: string }>(
        'SELECT kind, version, effective_from AS effectiveFrom FROM parameter_publications WHERE published_at IS NOT NULL ORDER BY kind, version',
      ),
      all: this.db.prepare<[], PublicationRow>(`SELECT ${columns} FROM parameter_publications ORDER BY kind, version`),
    };
  }

  /** Stores a signed set; throws when its kind and version are already stored. */
  insert(set: ParameterSet, chunks: Buffer[] | undefined, now: Date): void {
    const mode = set.kind === 'blacklist' ? String((set.body as { mode?: unknown }).mode) : null;
    const sizes = chunks ? JSON.stringify(chunks.map((chunk) => chunk.length)) : null;
    this.statements.insert.run(set.kind, set.version, mode, set.effectiveFrom, JSON.stringify(set), chunks ? Buffer.concat(chunks) : null, sizes, now.toISOString());
  }

  latest(kind: ParameterKind): StoredPublication | undefined {
    return toPublication(this.statements.latest.get(kind));
  }

  find(kind: ParameterKind, version: number): StoredPublication | undefined {
    return toPublication(this.statements.find.get(kind, version));
  }

  /** The newest full blacklist, the base of every later delta. */
  latestFullBlacklist(): StoredPublication | undefined {
    return toPublication(this.statements.latestOfMode.get('blacklist', 'full'));
  }

  unpublished(): StoredPublication[] {
    return this.statements.unpublished.all().map((row) => toPublication(row)!);
  }

  markPublished(set: ParameterSet, at: Date): void {
    this.statements.markPublished.run(at.toISOString(), set.kind, set.version);
  }

  /**
   * The sets a broker must retain: the newest of each kind, and for the blacklist the newest full
   * list plus the newest delta above it.
   */
  retained(): StoredPublication[] {
    const result: StoredPublication[] = [];
    for (const kind of ['fare-table', 'routes', 'issuers'] as const) {
      const latest = this.latest(kind);
      if (latest) result.push(latest);
    }
    const full = this.latestFullBlacklist();
    if (full) {
      result.push(full);
      const delta = toPublication(this.statements.latestOfMode.get('blacklist', 'delta'));
      if (delta && delta.set.version > full.set.version) result.push(delta);
    }
    return result;
  }

  /** The most chunk topics any stored full blacklist has used. */
  maxChunkCount(): number {
    return this.statements.maxChunkCount.get()?.count ?? 0;
  }

  /** Kind, version and effective time of every published set, without bodies. */
  published(): { kind: string; version: number; effectiveFrom: string }[] {
    return this.statements.published.all();
  }

  all(): StoredPublication[] {
    return this.statements.all.all().map((row) => toPublication(row)!);
  }

  close(): void {
    if (this.db.open) this.db.close();
  }
}

function toPublication(row: PublicationRow | undefined): StoredPublication | undefined {
  if (!row) return undefined;
  const publication: StoredPublication = { set: JSON.parse(row.set_json) as ParameterSet, createdAt: row.created_at };
  if (row.published_at !== null) publication.publishedAt = row.published_at;
  if (row.chunks !== null && row.chunk_sizes !== null) {
    const sizes = JSON.parse(row.chunk_sizes) as number[];
    const chunks: Buffer[] = [];
    let offset = 0;
    for (const size of sizes) {
      chunks.push(row.chunks.subarray(offset, offset + size));
      offset += size;
    }
    publication.chunks = chunks;
  }
  return publication;
}
