import type { KeyObject } from 'node:crypto';
import { readFileSync } from 'node:fs';
import type Database from 'better-sqlite3';
import {
  BLACKLIST_DELTA_TOPIC_KIND,
  DEFAULT_MAX_EFFECTIVE_AGE_MS,
  blacklistBodySchema,
  blacklistChunkIndex,
  sha256Hex,
  unpackBlacklist,
  type BlacklistBody,
  type FareTableBody,
  type ParameterSet,
} from '@busfare/shared-protocol';
import type { Logger } from '../logger.js';
import { systemClock, type Clock } from '../ports/clock.js';
import type { DriverAlert, DriverScreen } from '../ports/driver-screen.js';
import { openDurableDatabase, type DurableDatabaseOptions, type Migrations } from '../store/sqlite-file.js';
import type { ParameterSink } from '../uplink/parameter-subscriber.js';
import { BlacklistSet } from './blacklist/blacklist-set.js';
import { currentBlacklistVersions, neededBlacklistVersions, type StoredBlacklistVersion } from './blacklist/blacklist-retention.js';
import { BlacklistVersions } from './blacklist/blacklist-versions.js';
import { ChunkAssembler, type ChunkOutcome } from './blacklist/chunk-assembler.js';
import { ParameterRejections, type ParameterRejection } from './parameter-rejections.js';
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
  `
  CREATE TABLE parameter_chunks (
    kind TEXT NOT NULL,
    version INTEGER NOT NULL,
    chunk_index INTEGER NOT NULL,
    data BLOB NOT NULL,
    PRIMARY KEY (kind, version, chunk_index)
  ) STRICT;
  `,
];

/**
 * A stored parameter set with its body checked against its kind's schema. For the blacklist the
 * body is a summary (mode, entry counts, base version); the entries themselves are behind
 * `activeBlacklist`.
 */
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

/** Outcome of accept(): `waiting` names what a valid set still waits for before it is stored. */
export type ParameterStoreResult = { ok: true; duplicate?: boolean; waiting?: string } | { ok: false; problems: string[] };

export interface ParameterStoreOptions extends DurableDatabaseOptions {
  /** The back office's Ed25519 public key pinned at provisioning; sets it does not verify are rejected. */
  publicKey: KeyObject;
  clock?: Clock;
  /** Screen that receives the `parameters-rejected` alert. */
  driverScreen?: DriverScreen;
  /**
   * Maximum age in milliseconds of a new set's effectiveFrom when a set of its kind is already
   * stored. Older sets are rejected as stale or replayed. Default DEFAULT_MAX_EFFECTIVE_AGE_MS.
   */
  maxEffectiveAgeMs?: number;
}

/** Blacklist lookup for the tap path. */
export interface BlacklistLookup {
  has(asn8Hex: string): boolean;
}

interface CachedSet {
  stored: StoredParameterSet;
  effectiveFromMs: number;
}

/**
 * The terminal's parameter sets (fare table, blacklist, routes, issuers) in their own SQLite file.
 * A set is stored only after every check passes (signature, hash, schema, version, age), so an
 * invalid set never replaces the last good one. The active set of a kind is the highest version
 * whose effectiveFrom has passed. Reads go to an in-memory copy that is swapped whole after each
 * commit, so a reader sees either the old or the new set.
 */
export class ParameterStore implements ParameterSink {
  /** Stored sets per kind, highest version first. */
  private byKind = new Map<string, ReadonlyArray<CachedSet>>();
  private readonly insertSet;
  private readonly insertChunk;
  private readonly deleteSet;
  private readonly deleteChunks;
  private readonly clock: Clock;
  private readonly maxEffectiveAgeMs: number;
  private readonly rejections: ParameterRejections;
  private readonly blacklists: BlacklistVersions;
  private readonly chunks = new ChunkAssembler<ValidParameterSet>();
  /** SHA-256 of each chunk of the newest stored packed list, so redelivered chunks are ignored. */
  private storedChunkHashes = new Set<string>();
  /** A delta whose base version has not arrived yet; it is retried after each full list. */
  private waitingDelta: ValidParameterSet | undefined;

  private constructor(
    private readonly db: Database.Database,
    private readonly options: ParameterStoreOptions,
  ) {
    this.clock = options.clock ?? systemClock;
    this.maxEffectiveAgeMs = options.maxEffectiveAgeMs ?? DEFAULT_MAX_EFFECTIVE_AGE_MS;
    this.rejections = new ParameterRejections(options.logger, options.driverScreen);
    this.insertSet = db.prepare<[string, number, number, string, string]>(
      'INSERT INTO parameter_sets (kind, version, effective_from_ms, body_sha256, set_json) VALUES (?, ?, ?, ?, ?)',
    );
    this.insertChunk = db.prepare<[string, number, number, Uint8Array]>('INSERT INTO parameter_chunks (kind, version, chunk_index, data) VALUES (?, ?, ?, ?)');
    this.deleteSet = db.prepare<[string, number]>('DELETE FROM parameter_sets WHERE kind = ? AND version = ?');
    this.deleteChunks = db.prepare<[string, number]>('DELETE FROM parameter_chunks WHERE kind = ? AND version = ?');
    const selectSet = db.prepare<[string, number], { set_json: string }>('SELECT set_json FROM parameter_sets WHERE kind = ? AND version = ?');
    const selectChunks = db.prepare<[string, number], Buffer>('SELECT data FROM parameter_chunks WHERE kind = ? AND version = ? ORDER BY chunk_index').pluck();
    this.blacklists = new BlacklistVersions({
      body: (version) => {
        const row = selectSet.get('blacklist', version);
        return row ? blacklistBodySchema.parse((JSON.parse(row.set_json) as ParameterSet).body) : undefined;
      },
      packedChunks: (version) => selectChunks.iterate('blacklist', version),
    });
    this.loadAll();
  }

  /**
   * Opens or creates the parameter database. Throws DatabaseFileError when it is unusable and an
   * Error when a stored blacklist is damaged.
   */
  static open(path: string, options: ParameterStoreOptions): ParameterStore {
    return new ParameterStore(openDurableDatabase(path, PARAMETER_MIGRATIONS, options), options);
  }

  /**
   * Checks and stores a parameter message given as JSON bytes, JSON text or a parsed value.
   * `expected.kind` is the topic level after `parameters/`: a kind, `blacklist-delta`, or
   * `blacklist-chunk-{index}` for the raw bytes of a packed chunk. Never throws: every problem
   * found is listed, logged and raised to the driver. A set already stored is a duplicate.
   */
  accept(raw: unknown, expected: { kind?: string } = {}): ParameterStoreResult {
    const topicKind = expected.kind;
    try {
      const chunkIndex = topicKind === undefined ? undefined : blacklistChunkIndex(topicKind);
      if (chunkIndex !== undefined) return this.acceptChunk(chunkIndex, raw);

      // The back office clears a retained topic, such as the delta of the previous full
      // blacklist, with an empty message. It carries nothing to store.
      if (raw instanceof Uint8Array && raw.length === 0 && topicKind !== undefined) return { ok: true, duplicate: true };
      const setKind = topicKind === BLACKLIST_DELTA_TOPIC_KIND ? 'blacklist' : topicKind;
      const validation = validateParameterSet(raw, { publicKey: this.options.publicKey, ...(setKind === undefined ? {} : { expectedKind: setKind }) });
      if (!validation.ok) return this.reject(setKind ?? kindOf(raw), validation.problems);
      const mode = (validation.value.body as { mode?: string }).mode;
      if (topicKind === BLACKLIST_DELTA_TOPIC_KIND && mode !== 'delta') return this.reject('blacklist', ['body.mode: parameters/blacklist-delta carries only deltas']);
      if (topicKind === 'blacklist' && mode !== 'full') return this.reject('blacklist', ['body.mode: parameters/blacklist carries only full lists; deltas go to parameters/blacklist-delta']);
      return this.admit(validation.value);
    } catch (error) {
      return this.reject(topicKind ?? '(unknown)', [`failed to store the parameter set: ${(error as Error).message}`]);
    }
  }

  /** Accepts a packed full blacklist together with its chunks, as from a provisioning file. */
  acceptPackedBlacklist(raw: unknown, chunks: ReadonlyArray<Uint8Array>): ParameterStoreResult {
    const result = this.accept(raw, { kind: 'blacklist' });
    if (!result.ok || result.duplicate || result.waiting === undefined) return result;
    let outcome: ParameterStoreResult = result;
    chunks.forEach((chunk, index) => {
      if (outcome.ok && outcome.waiting !== undefined) outcome = this.acceptChunk(index, chunk);
    });
    return outcome;
  }

  /** Accepts the parameter set in a JSON file, such as the initial fare table at start-up. */
  loadFromFile(path: string): ParameterStoreResult {
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

  /** Returns the blacklist active at `now`, or an empty one when none is stored or effective yet. */
  activeBlacklist(now: Date): BlacklistSet {
    const active = this.active('blacklist', now);
    if (!active) return BlacklistSet.EMPTY;
    const built = this.blacklists.get(active.version);
    if (built) return built;
    // Sets are built when stored, so this path runs only after a version was dropped from memory.
    this.options.logger?.warn({ version: active.version }, 'building the active blacklist during a lookup');
    return this.blacklists.build(active.version);
  }

  /** Returns a lookup for the tap path that reads the blacklist active at the clock's time. */
  blacklistLookup(): BlacklistLookup {
    return { has: (asn8Hex) => this.activeBlacklist(this.clock.now()).has(asn8Hex) };
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

  /** Returns the latest rejection of each kind that no good set has followed yet. */
  openRejections(): ParameterRejection[] {
    return this.rejections.list();
  }

  /** Alerts for the status message: `parameters-rejected` while any rejection is open. */
  statusAlerts(): DriverAlert[] {
    return this.rejections.alerts();
  }

  /**
   * Sends the `parameters-rejected` alert to this screen from now on, and at once when a
   * rejection is open, for runtimes that build the screen after the store.
   */
  attachDriverScreen(screen: DriverScreen): void {
    this.rejections.attach(screen);
  }

  close(): void {
    if (this.db.open) this.db.close();
  }

  private reject(kind: string, problems: string[]): ParameterStoreResult {
    this.rejections.record(kind, this.clock.now(), problems);
    return { ok: false, problems };
  }

  /** Checks a valid set against what the store holds, then stores it or waits for its parts. */
  private admit(valid: ValidParameterSet): ParameterStoreResult {
    const { set } = valid;
    const existing = this.byKind.get(set.kind) ?? [];
    const sameVersion = existing.find((entry) => entry.stored.version === set.version);
    if (sameVersion) {
      if (sameVersion.stored.bodySha256 === set.bodySha256) return { ok: true, duplicate: true };
      return this.reject(set.kind, [`version: ${set.kind} version ${set.version} is already stored with a different body; publish a new version`]);
    }
    const problems: string[] = [];
    const newest = existing[0];
    if (newest && newest.stored.version > set.version) problems.push(`version: ${set.kind} version ${set.version} is older than stored version ${newest.stored.version}`);
    const oldestAcceptedMs = this.clock.now().getTime() - this.maxEffectiveAgeMs;
    // NOTE: a terminal without any set of the kind takes an old set, because a retained set can be
    // older than the limit when nothing newer was published and there is nothing to roll back.
    if (existing.length > 0 && valid.effectiveFromMs < oldestAcceptedMs) {
      problems.push(`effectiveFrom: ${set.effectiveFrom} is more than ${Math.round(this.maxEffectiveAgeMs / 3_600_000)} h in the past; the set is stale or replayed`);
    }
    if (problems.length > 0) return this.reject(set.kind, problems);

    if (set.kind !== 'blacklist') return this.store(valid);
    const body = valid.body as BlacklistBody;
    if (body.mode === 'delta') return this.admitDelta(valid, body);
    if (body.packed) return this.afterChunks(this.chunks.expect(valid, body.packed));
    const built = BlacklistSet.fromAsns(body.entries ?? []);
    return this.store(valid, { set: built });
  }

  private admitDelta(valid: ValidParameterSet, body: Extract<BlacklistBody, { mode: 'delta' }>): ParameterStoreResult {
    const stored = (this.byKind.get('blacklist') ?? []).some((entry) => entry.stored.version === body.baseVersion);
    if (!stored) {
      this.waitingDelta = valid;
      this.options.logger?.info({ version: valid.set.version, baseVersion: body.baseVersion }, 'blacklist delta waits for its base version');
      return { ok: true, waiting: `blacklist version ${body.baseVersion}` };
    }
    const built = this.blacklists.build(body.baseVersion).applyDelta(body.add, body.remove);
    return this.store(valid, { set: built });
  }

  private acceptChunk(index: number, raw: unknown): ParameterStoreResult {
    if (!(raw instanceof Uint8Array)) return this.reject('blacklist', [`packed.chunks.${index}: expected raw bytes`]);
    // An empty retained message clears a chunk topic, and a redelivered chunk of the stored list
    // is not kept, so neither takes memory.
    if (raw.length === 0) return { ok: true, duplicate: true };
    if (!this.chunks.isWaiting() && this.storedChunkHashes.has(sha256Hex(raw))) return { ok: true, duplicate: true };
    const outcome = this.chunks.add(index, raw);
    return outcome ? this.afterChunks(outcome) : { ok: true, waiting: 'a blacklist manifest' };
  }

  private afterChunks(outcome: ChunkOutcome<ValidParameterSet>): ParameterStoreResult {
    if (outcome.kind === 'waiting') return { ok: true, waiting: `${outcome.missing} blacklist chunks` };
    if (outcome.kind === 'mismatch') return this.reject('blacklist', [outcome.problem]);
    const valid = outcome.manifested;
    const manifest = (valid.body as BlacklistBody & { mode: 'full' }).packed!;
    const unpacked = unpackBlacklist(manifest, outcome.chunks);
    if (!unpacked.ok) return this.reject('blacklist', unpacked.problems);
    const result = this.store(valid, { set: BlacklistSet.fromSorted(unpacked.entries), chunks: outcome.chunks });
    this.storedChunkHashes = new Set(manifest.chunks.map((chunk) => chunk.sha256));
    return result;
  }

  private store(valid: ValidParameterSet, blacklist?: { set: BlacklistSet; chunks?: Uint8Array[] }): ParameterStoreResult {
    const { set } = valid;
    this.db.transaction(() => {
      this.insertSet.run(set.kind, set.version, valid.effectiveFromMs, set.bodySha256, JSON.stringify(set));
      blacklist?.chunks?.forEach((chunk, index) => this.insertChunk.run(set.kind, set.version, index, chunk));
    })();

    const existing = this.byKind.get(set.kind) ?? [];
    const next = new Map(this.byKind);
    next.set(set.kind, [toCached(set, valid.body, valid.effectiveFromMs), ...existing]);
    if (blacklist) this.blacklists.put(set.version, blacklist.set);
    this.byKind = next;
    this.rejections.resolve(set.kind);
    this.options.logger?.info({ kind: set.kind, version: set.version, effectiveFrom: set.effectiveFrom }, 'parameter set stored');

    if (set.kind === 'blacklist') {
      this.pruneBlacklists();
      this.retainBlacklists();
      const delta = this.waitingDelta;
      if (delta && (valid.body as BlacklistBody).mode === 'full') {
        this.waitingDelta = undefined;
        if (delta.set.version > set.version) this.admit(delta);
      }
    }
    return { ok: true };
  }

  /**
   * Deletes the stored blacklist versions that neither the active nor a pending version needs as
   * a base, so that superseded deltas and full lists do not pile up in the file.
   */
  private pruneBlacklists(): void {
    const sets = this.byKind.get('blacklist') ?? [];
    const needed = neededBlacklistVersions(sets.map(retentionView), this.clock.now().getTime());
    if (!needed) return;
    const superseded = sets.filter((entry) => !needed.has(entry.stored.version)).map((entry) => entry.stored.version);
    if (superseded.length === 0) return;

    this.db.transaction(() => {
      for (const version of superseded) {
        this.deleteSet.run('blacklist', version);
        this.deleteChunks.run('blacklist', version);
      }
    })();
    const next = new Map(this.byKind);
    next.set('blacklist', sets.filter((entry) => needed.has(entry.stored.version)));
    this.byKind = next;
    this.options.logger?.info({ versions: superseded }, 'deleted superseded blacklist versions');
  }

  /**
   * Keeps in memory only the active and pending blacklists. The base of a later delta is read
   * from storage again when that delta arrives, which costs a decode but saves a whole list.
   */
  private retainBlacklists(): void {
    const sets = this.byKind.get('blacklist') ?? [];
    this.blacklists.retainOnly(currentBlacklistVersions(sets.map(retentionView), this.clock.now().getTime()));
  }

  /** Reads every stored set; a row that no longer passes the checks is skipped and logged. */
  private loadAll(): void {
    const rows = this.db.prepare<[], { set_json: string }>('SELECT set_json FROM parameter_sets ORDER BY kind, version DESC').all();
    const byKind = new Map<string, CachedSet[]>();
    for (const row of rows) {
      const validation = validateParameterSet(row.set_json, { publicKey: this.options.publicKey });
      if (!validation.ok) {
        this.options.logger?.error({ problems: validation.problems }, 'stored parameter set failed its checks; skipped');
        continue;
      }
      const { set, body, effectiveFromMs } = validation.value;
      const list = byKind.get(set.kind) ?? [];
      list.push(toCached(set, body, effectiveFromMs));
      byKind.set(set.kind, list);
    }
    this.byKind = byKind;

    this.pruneBlacklists();
    const blacklists = this.byKind.get('blacklist') ?? [];
    for (const version of currentBlacklistVersions(blacklists.map(retentionView), this.clock.now().getTime())) this.blacklists.build(version);
    this.retainBlacklists();
    const newestPacked = blacklists.find((entry) => (entry.stored.body as { packedChunks?: string[] }).packedChunks !== undefined);
    this.storedChunkHashes = new Set((newestPacked?.stored.body as { packedChunks?: string[] } | undefined)?.packedChunks ?? []);
  }
}

function toCached(set: ParameterSet, body: unknown, effectiveFromMs: number): CachedSet {
  return {
    stored: { kind: set.kind, version: set.version, effectiveFrom: set.effectiveFrom, bodySha256: set.bodySha256, body: set.kind === 'blacklist' ? summarizeBlacklist(body as BlacklistBody) : body },
    effectiveFromMs,
  };
}

/** Summarizes a blacklist body for the in-memory cache, because the entries live in BlacklistVersions. */
function summarizeBlacklist(body: BlacklistBody): Record<string, unknown> {
  if (body.mode === 'delta') return { mode: 'delta', baseVersion: body.baseVersion, added: body.add.length, removed: body.remove.length };
  if (body.packed) return { mode: 'full', count: body.packed.count, packedChunks: body.packed.chunks.map((chunk) => chunk.sha256) };
  return { mode: 'full', count: body.entries?.length ?? 0 };
}

function retentionView(entry: CachedSet): StoredBlacklistVersion {
  return { version: entry.stored.version, effectiveFromMs: entry.effectiveFromMs, body: entry.stored.body };
}

function kindOf(raw: unknown): string {
  const kind = typeof raw === 'object' && raw !== null && !(raw instanceof Uint8Array) ? (raw as { kind?: unknown }).kind : undefined;
  return typeof kind === 'string' ? kind : '(unknown)';
}
