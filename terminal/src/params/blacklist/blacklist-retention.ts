/** A stored blacklist version as the retention rules see it. */
export interface StoredBlacklistVersion {
  version: number;
  effectiveFromMs: number;
  /** The summary body: `mode` and, for a delta, `baseVersion`. */
  body: unknown;
}

/**
 * Returns the active and pending versions: every version from the newest down to the first one
 * effective at `nowMs`, or all of them when none is effective yet. `versions` is newest first.
 */
export function currentBlacklistVersions(versions: readonly StoredBlacklistVersion[], nowMs: number): Set<number> {
  const activeIndex = versions.findIndex((entry) => entry.effectiveFromMs <= nowMs);
  const end = activeIndex === -1 ? versions.length : activeIndex + 1;
  return new Set(versions.slice(0, end).map((entry) => entry.version));
}

/**
 * Returns the versions that storage must keep: the active and pending ones and every base they
 * build on. Undefined while none is effective, because then nothing is superseded yet.
 */
export function neededBlacklistVersions(versions: readonly StoredBlacklistVersion[], nowMs: number): Set<number> | undefined {
  if (!versions.some((entry) => entry.effectiveFromMs <= nowMs)) return undefined;
  const byVersion = new Map(versions.map((entry) => [entry.version, entry]));
  const needed = new Set<number>();
  const pending = [...currentBlacklistVersions(versions, nowMs)];
  while (pending.length > 0) {
    const version = pending.pop()!;
    if (needed.has(version)) continue;
    needed.add(version);
    const body = byVersion.get(version)?.body as { mode?: string; baseVersion?: number } | undefined;
    if (body?.mode === 'delta' && body.baseVersion !== undefined) pending.push(body.baseVersion);
  }
  return needed;
}
