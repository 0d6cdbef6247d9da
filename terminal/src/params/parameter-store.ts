import { readFileSync } from 'node:fs';
import type Database from 'better-sqlite3';
import type { FareTableBody, ParameterSet } from '@busfare/shared-protocol';
import type { Logger } from '../logger.js';
import { openDurableDatabase, type DurableDatabaseOptions, type Migrations } from '../store/sqlite-file.js';
import type { ParameterAcceptResult, ParameterSink } from '../uplink/parameter-subscriber.js';
import { validateParameterSet, type ValidParameterSet } from './parameter-validation.js';

const PARAMETER_MIGRATIONS: Migrations = [
  '',
  `
  CREATE TABLE parameter_sets (
    kind TEXT NOT NULL,
    version INTEGER NOT NULL,
    effective_from_ms INTEGER NOT NULL,
    body_sha256 TEXT NOT NULL,
    set_json TEXT NOT NULL,
    PRIMARY KEY (kind, version)
  ) STRICT;
  `,
];

/** A stored parameter set with its body checked against its kind's schema. */
export interface StoredParameterSet<Body = unknown> {
  kind: ParameterSet['kind'];
  version: number;
  effectiveFrom: string;
  bodySha256: string;
  body: Body;
}

export interface ParameterVersions {
  active: Record<string, number>;
  pending: Record<string, number>;
}

interface CachedSet {
  stored: StoredParameterSet;
  effectiveFromMs: number;
}

/**
 * The terminal's parameter sets (fare table, blacklist, routes, issuers) in their own SQLite file.
 * A set is stored only after every check passes, so an invalid set never replaces the last good
 * one. The active set of a kind is the highest version whose effectiveFrom has passed. Reads go
 * to an in-memory copy that is swapped whole after each commit, so a reader sees either the old
 * or the new set.
 * NOTE: only fare-table bodies are checked field by field; other kinds are checked by hash only.
 */
export class ParameterStore implements ParameterSink {
  /** Stored sets per kind, highest version first. */
  private byKind = new Map<string, ReadonlyArray<CachedSet>>();
  private readonly insert;

  private constructor(
    private readonly db: Database.Database,
    private readonly logger: Logger | undefined,
  ) {
    this.insert = db.prepare<[string, number, number, string, string]>(
      'INSERT INTO parameter_sets (kind, version, effective_from_ms, body_sha256, set_json) VALUES (?, ?, ?, ?, ?)',
    );
    this.loadAll();
  }

  /** Opens or creates the parameter database; throws DatabaseFileError when it is unusable. */
  static open(path: string, options: DurableDatabaseOptions = {}): ParameterStore {
    return new ParameterStore(openDurableDatabase(path, PARAMETER_MIGRATIONS, options), options.logger);
  }

  /**
   * Checks and stores a parameter set given as JSON bytes, JSON text or a parsed value. Never
   * throws: every problem found is listed. A set already stored with the same hash is a duplicate.
   */
  accept(raw: unknown, expected: { kind?: string } = {}): ParameterAcceptResult {
    try {
      const validation = validateParameterSet(raw, expected.kind);
      if (!validation.ok) return validation;
      return this.store(validation.value);
    } catch (error) {
      return { ok: false, problems: [`failed to store the parameter set: ${(error as Error).message}`] };
    }
  }

  /** Accepts the parameter set in a JSON file, such as the initial fare table at start-up. */
  loadFromFile(path: string): ParameterAcceptResult {
    let text: string;
    try {
      text = readFileSync(path, 'utf8');
    } catch (error) {
      return { ok: false, problems: [`cannot read parameter file ${path}: ${(error as Error).message}`] };
    }
    const result = this.accept(text);
    if (!result.ok) return { ok: false, problems: result.problems.map((problem) => `${path}: ${problem}`) };
    return result;
  }

  /** The highest version of `kind` whose effectiveFrom is at or before `now`. */
  active(kind: string, now: Date): StoredParameterSet | undefined {
    const nowMs = now.getTime();
    return this.byKind.get(kind)?.find((entry) => entry.effectiveFromMs <= nowMs)?.stored;
  }

  activeFareTable(now: Date): StoredParameterSet<FareTableBody> | undefined {
    return this.active('fare-table', now) as StoredParameterSet<FareTableBody> | undefined;
  }

  /** Active and, where a newer one waits for its effective time, pending version of each kind. */
  versions(now: Date): ParameterVersions {
    const versions: ParameterVersions = { active: {}, pending: {} };
    const nowMs = now.getTime();
    for (const [kind, sets] of this.byKind) {
      const active = sets.find((entry) => entry.effectiveFromMs <= nowMs);
      if (active) versions.active[kind] = active.stored.version;
      const newest = sets[0];
      if (newest && newest.effectiveFromMs > nowMs) versions.pending[kind] = newest.stored.version;
    }
    return versions;
  }

  close(): void {
    if (this.db.open) this.db.close();
  }

  private store(valid: ValidParameterSet): ParameterAcceptResult {
    const { set } = valid;
    const existing = this.byKind.get(set.kind) ?? [];
    const sameVersion = existing.find((entry) => entry.stored.version === set.version);
    if (sameVersion) {
      if (sameVersion.stored.bodySha256 === set.bodySha256) return { ok: true, duplicate: true };
      return { ok: false, problems: [`version: ${set.kind} version ${set.version} is already stored with a different body; publish a new version`] };
    }
    const newest = existing[0];
    if (newest && newest.stored.version > set.version) {
      return { ok: false, problems: [`version: ${set.kind} version ${set.version} is older than stored version ${newest.stored.version}`] };
    }

    this.insert.run(set.kind, set.version, valid.effectiveFromMs, set.bodySha256, JSON.stringify(set));
    const entry = toCached(set, valid.body, valid.effectiveFromMs);
    const next = new Map(this.byKind);
    next.set(set.kind, [entry, ...existing]);
    this.byKind = next;
    this.logger?.info({ kind: set.kind, version: set.version, effectiveFrom: set.effectiveFrom }, 'parameter set stored');
    return { ok: true };
  }

  /** Reads every stored set; a row that no longer passes the checks is skipped and logged. */
  private loadAll(): void {
    const rows = this.db.prepare<[], { set_json: string }>('SELECT set_json FROM parameter_sets ORDER BY kind, version DESC').all();
    const byKind = new Map<string, CachedSet[]>();
    for (const row of rows) {
      const validation = validateParameterSet(row.set_json);
      if (!validation.ok) {
        this.logger?.error({ problems: validation.problems }, 'stored parameter set failed its checks; skipped');
        continue;
      }
      const { set, body, effectiveFromMs } = validation.value;
      const list = byKind.get(set.kind) ?? [];
      list.push(toCached(set, body, effectiveFromMs));
      byKind.set(set.kind, list);
    }
    this.byKind = byKind;
  }
}

function toCached(set: ParameterSet, body: unknown, effectiveFromMs: number): CachedSet {
  return {
    stored: { kind: set.kind, version: set.version, effectiveFrom: set.effectiveFrom, bodySha256: set.bodySha256, body },
    effectiveFromMs,
  };
}
