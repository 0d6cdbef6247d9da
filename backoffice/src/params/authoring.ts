import type { KeyObject } from 'node:crypto';
import {
  DEFAULT_MAX_EFFECTIVE_AGE_MS,
  PARAMETER_BODY_SCHEMAS,
  asnToBigInt,
  bigIntToAsn,
  blacklistAsnSchema,
  blacklistBodySchema,
  isoTimeSchema,
  mergeSorted,
  packBlacklist,
  sortedAsnArray,
  sortedIncludes,
  unpackBlacklist,
  type BlacklistBody,
  type Language,
  type ParameterKind,
  type ProblemText,
  problemTextsIn,
  validationTextEntry,
  zodIssueEntries,
} from '@busfare/shared-protocol';
import type { ParameterRepository, StoredPublication } from './parameter-repository.js';
import { buildSignedParameterSet } from './publisher.js';

/** Full blacklists with more entries than this travel as packed binary chunks. */
export const INLINE_BLACKLIST_LIMIT = 10_000;
/** A cumulative delta larger than this is replaced by a new full list. */
export const CUMULATIVE_DELTA_LIMIT = 50_000;

/** A parameter set that cannot be authored, with every problem found. */
export class ParameterAuthoringError extends Error {
  /** The problems in English, as the message and logs print them. */
  readonly problems: string[];

  constructor(private readonly problemTexts: readonly ProblemText[]) {
    const problems = problemTextsIn(problemTexts, 'en');
    super(`invalid parameter set:\n${problems.map((problem) => `  ${problem}`).join('\n')}`);
    this.name = 'ParameterAuthoringError';
    this.problems = problems;
  }

  /** Returns the problems in the language, for the operator console or a command's output. */
  problemsIn(language: Language): string[] {
    return problemTextsIn(this.problemTexts, language);
  }
}

export interface ParameterAuthoringOptions {
  repository: ParameterRepository;
  signingKey: KeyObject;
  now?: () => Date;
  /** How far in the past effectiveFrom may lie; terminals reject older sets. */
  maxEffectiveAgeMs?: number;
}

export interface SetRequest {
  kind: ParameterKind;
  body: unknown;
  /** Defaults to one above the newest stored version of the kind. */
  version?: number;
  /** ISO 8601 with offset; defaults to now. */
  effectiveFrom?: string;
}

/**
 * Creates and changes parameter sets for the CLI and the operator console: checks each one as
 * terminals will, signs it and stores it in the publications outbox, from which the running back
 * office publishes it. Blacklist changes become a cumulative delta on top of the newest full
 * list, or a new full list once the delta grows beyond CUMULATIVE_DELTA_LIMIT.
 */
export class ParameterAuthoring {
  private readonly now: () => Date;
  private readonly maxEffectiveAgeMs: number;

  constructor(private readonly options: ParameterAuthoringOptions) {
    this.now = options.now ?? (() => new Date());
    this.maxEffectiveAgeMs = options.maxEffectiveAgeMs ?? DEFAULT_MAX_EFFECTIVE_AGE_MS;
  }

  /** Checks, signs and stores a set of any kind. Throws ParameterAuthoringError listing every problem. */
  create(request: SetRequest): StoredPublication {
    const { repository } = this.options;
    const problems: ProblemText[] = [];
    const latest = repository.latest(request.kind);
    const version = request.version ?? (latest?.set.version ?? 0) + 1;
    if (!Number.isInteger(version) || version < 1) problems.push(validationTextEntry('validation.params.versionNotPositive', { version }));
    else if (latest && version <= latest.set.version) problems.push(validationTextEntry('validation.params.versionStored', { kind: request.kind, latest: latest.set.version, next: latest.set.version + 1 }));
    const effectiveFrom = request.effectiveFrom ?? this.now().toISOString();
    problems.push(...this.checkEffectiveFrom(effectiveFrom));

    const parsed = (PARAMETER_BODY_SCHEMAS[request.kind] as typeof blacklistBodySchema).safeParse(request.body);
    if (!parsed.success) problems.push(...zodIssueEntries(parsed.error.issues, { pathPrefix: ['body'] }));
    let body: unknown = request.body;
    let chunks: Buffer[] | undefined;
    if (parsed.success && request.kind === 'blacklist') {
      const blacklist = parsed.data as BlacklistBody;
      if (blacklist.mode === 'delta') {
        problems.push(...this.checkDeltaBase(blacklist.baseVersion, version));
      } else if (blacklist.packed) {
        problems.push(validationTextEntry('validation.params.packedGiven'));
      } else if ((blacklist.entries?.length ?? 0) > INLINE_BLACKLIST_LIMIT) {
        const packed = packBlacklist(sortedAsnArray(blacklist.entries ?? []));
        body = { mode: 'full', packed: packed.manifest };
        chunks = packed.chunks;
      }
    }
    if (problems.length > 0) throw new ParameterAuthoringError(problems);

    const now = this.now();
    const set = buildSignedParameterSet(request.kind, version, body, effectiveFrom, this.options.signingKey, now);
    repository.insert(set, chunks, now);
    return { set, ...(chunks ? { chunks } : {}), createdAt: now.toISOString() };
  }

  /**
   * Adds ASNs to and removes ASNs from the blacklist as one new version. Throws
   * ParameterAuthoringError listing every invalid ASN or other problem.
   */
  changeBlacklist(add: readonly string[], remove: readonly string[], effectiveFrom?: string): StoredPublication {
    const problems: ProblemText[] = [];
    add.forEach((asn, index) => {
      if (!blacklistAsnSchema.safeParse(asn).success) problems.push(validationTextEntry('validation.params.asnNotKey', { field: `add.${index}`, value: JSON.stringify(asn) }));
    });
    remove.forEach((asn, index) => {
      if (!blacklistAsnSchema.safeParse(asn).success) problems.push(validationTextEntry('validation.params.asnNotKey', { field: `remove.${index}`, value: JSON.stringify(asn) }));
    });
    const both = add.filter((asn) => remove.includes(asn));
    if (both.length > 0) problems.push(validationTextEntry('validation.params.asnAddedAndRemoved', { asns: both.join(', ') }));
    if (add.length === 0 && remove.length === 0) problems.push(validationTextEntry('validation.params.noAsn'));
    if (problems.length > 0) throw new ParameterAuthoringError(problems);

    const { repository } = this.options;
    const full = repository.latestFullBlacklist();
    if (!full) return this.create({ kind: 'blacklist', body: { mode: 'full', entries: [...add] }, ...(effectiveFrom ? { effectiveFrom } : {}) });

    const fullEntries = fullBlacklistEntries(full);
    const latest = repository.latest('blacklist')!;
    const previous = latest.set.version > full.set.version ? (blacklistBodySchema.parse(latest.set.body) as Extract<BlacklistBody, { mode: 'delta' }>) : undefined;
    const added = new Set(previous?.add ?? []);
    const removed = new Set(previous?.remove ?? []);
    for (const asn of add) {
      removed.delete(asn);
      if (!sortedIncludes(fullEntries, asnToBigInt(asn))) added.add(asn);
    }
    for (const asn of remove) {
      added.delete(asn);
      if (sortedIncludes(fullEntries, asnToBigInt(asn))) removed.add(asn);
    }

    const timing = effectiveFrom ? { effectiveFrom } : {};
    if (added.size + removed.size > CUMULATIVE_DELTA_LIMIT) {
      const entries = mergeSorted(fullEntries, sortedAsnArray(added), sortedAsnArray(removed));
      return this.create({ kind: 'blacklist', body: { mode: 'full', entries: Array.from(entries, bigIntToAsn) }, ...timing });
    }
    return this.create({ kind: 'blacklist', body: { mode: 'delta', baseVersion: full.set.version, add: [...added].sort(), remove: [...removed].sort() }, ...timing });
  }

  private checkEffectiveFrom(effectiveFrom: string): ProblemText[] {
    if (!isoTimeSchema.safeParse(effectiveFrom).success) return [validationTextEntry('validation.params.effectiveFromInvalid', { value: JSON.stringify(effectiveFrom) })];
    const ageMs = this.now().getTime() - Date.parse(effectiveFrom);
    if (ageMs > this.maxEffectiveAgeMs) return [validationTextEntry('validation.params.effectiveFromStale', { value: effectiveFrom, hours: Math.round(this.maxEffectiveAgeMs / 3_600_000) })];
    return [];
  }

  private checkDeltaBase(baseVersion: number, version: number): ProblemText[] {
    const full = this.options.repository.latestFullBlacklist();
    if (!full) return [validationTextEntry('validation.params.noFullBlacklist')];
    if (baseVersion !== full.set.version) return [validationTextEntry('validation.params.deltaBaseNotNewest', { full: full.set.version, base: baseVersion })];
    if (baseVersion >= version) return [validationTextEntry('validation.params.deltaBaseNotBelow', { base: baseVersion, version })];
    return [];
  }
}

/** The sorted entries of a stored full blacklist, inline or packed. */
export function fullBlacklistEntries(publication: StoredPublication): BigUint64Array {
  const body = blacklistBodySchema.parse(publication.set.body);
  if (body.mode !== 'full') throw new Error(`blacklist version ${publication.set.version} is a delta, not a full list`);
  if (!body.packed) return sortedAsnArray(body.entries ?? []);
  const unpacked = unpackBlacklist(body.packed, publication.chunks ?? []);
  if (!unpacked.ok) throw new Error(`stored blacklist version ${publication.set.version} is damaged: ${unpacked.problems.join('; ')}`);
  return unpacked.entries;
}
