/**
 * Extra retained topic levels under `parameters/`. Each is one level, so a terminal receives them
 * through its `parameters/+` subscription and the broker's access rules need no change.
 *
 * - `parameters/blacklist` carries the latest full blacklist (inline, or a packed manifest).
 * - `parameters/blacklist-delta` carries the latest delta. The back office makes each delta
 *   cumulative on top of the latest full list, so the two retained messages always suffice.
 * - `parameters/blacklist-chunk-{index}` carries chunk `index` of the packed full list as raw
 *   bytes. A terminal matches chunks to the manifest by index and SHA-256, so they may arrive
 *   before or after the manifest. The back office clears chunk topics beyond the current count
 *   with an empty retained message.
 */
export const BLACKLIST_DELTA_TOPIC_KIND = 'blacklist-delta';

const CHUNK_PREFIX = 'blacklist-chunk-';

/** The topic level of chunk `index` of the packed full blacklist. */
export function blacklistChunkTopicKind(index: number): string {
  return `${CHUNK_PREFIX}${index}`;
}

/** Returns the chunk index named by a topic level, or undefined for any other level. */
export function blacklistChunkIndex(topicKind: string): number | undefined {
  if (!topicKind.startsWith(CHUNK_PREFIX)) return undefined;
  const digits = topicKind.slice(CHUNK_PREFIX.length);
  if (!/^(0|[1-9][0-9]{0,5})$/.test(digits)) return undefined;
  return Number(digits);
}
