import type { KeyObject } from 'node:crypto';
import {
  BLACKLIST_DELTA_TOPIC_KIND,
  blacklistChunkTopicKind,
  parameterSetSchema,
  signParameterContent,
  topics,
  type ParameterKind,
  type ParameterSet,
} from '@busfare/shared-protocol';
import type { MqttClient } from 'mqtt';

/**
 * Builds a parameter set and signs it with the back office's Ed25519 key. The hash covers the
 * canonical JSON of the body, so key order does not change it; the signature covers the whole
 * envelope. Throws when the envelope is invalid.
 */
export function buildSignedParameterSet(kind: ParameterKind, version: number, body: unknown, effectiveFrom: string, signingKey: KeyObject, now: Date = new Date()): ParameterSet {
  return parameterSetSchema.parse(signParameterContent({ kind, version, effectiveFrom, publishedAt: now.toISOString(), body }, signingKey));
}

/** The retained topic level of a set: blacklist deltas have their own, so they never displace the full list. */
export function topicKindOf(set: ParameterSet): string {
  const mode = (set.body as { mode?: unknown } | undefined)?.mode;
  return set.kind === 'blacklist' && mode === 'delta' ? BLACKLIST_DELTA_TOPIC_KIND : set.kind;
}

export interface PublishOptions {
  /** Chunks of a packed full blacklist, published before its manifest. */
  chunks?: readonly Buffer[];
  /** Chunk topics the previous full list used; those beyond the new count are cleared. */
  previousChunkCount?: number;
}

/**
 * Publishes a signed set retained at QoS 1 under `parameters/`, so that a terminal that connects
 * later still receives it. A packed blacklist's chunks go first, each retained on its own topic.
 * A full blacklist clears the retained delta, which applied to the previous full list. Resolves
 * once the broker has acknowledged every message.
 */
export async function publishParameterSet(client: MqttClient, set: ParameterSet, options: PublishOptions = {}): Promise<void> {
  const chunks = options.chunks ?? [];
  for (const [index, chunk] of chunks.entries()) {
    await client.publishAsync(topics.parameters(blacklistChunkTopicKind(index)), chunk, { qos: 1, retain: true });
  }
  await client.publishAsync(topics.parameters(topicKindOf(set)), JSON.stringify(set), { qos: 1, retain: true });
  if (set.kind === 'blacklist' && topicKindOf(set) === 'blacklist') {
    await client.publishAsync(topics.parameters(BLACKLIST_DELTA_TOPIC_KIND), '', { qos: 1, retain: true });
    for (let index = chunks.length; index < (options.previousChunkCount ?? 0); index += 1) {
      await client.publishAsync(topics.parameters(blacklistChunkTopicKind(index)), '', { qos: 1, retain: true });
    }
  }
}
