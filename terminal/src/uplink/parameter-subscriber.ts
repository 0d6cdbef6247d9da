import { TOPIC_ROOT } from '@busfare/shared-protocol';
import type { Logger } from '../logger.js';
import type { LogLimiter } from './log-limiter.js';

export type ParameterAcceptResult = { ok: true; duplicate?: boolean } | { ok: false; problems: string[] };

/** What the uplink needs from the parameter store. */
export interface ParameterSink {
  accept(raw: unknown, expected?: { kind?: string }): ParameterAcceptResult;
  versions(now: Date): { active: Record<string, number>; pending: Record<string, number> };
}

const PARAMETERS_PREFIX = `${TOPIC_ROOT}/parameters/`;

/** Returns the kind named by a `parameters/{kind}` topic, or undefined for any other topic. */
export function parameterKindFromTopic(topic: string): string | undefined {
  if (!topic.startsWith(PARAMETERS_PREFIX)) return undefined;
  const kind = topic.slice(PARAMETERS_PREFIX.length);
  return kind.length > 0 && !kind.includes('/') ? kind : undefined;
}

/**
 * Feeds one retained parameter message to the store and logs the outcome. Returns true when a
 * new set was stored, so the caller can report the new versions.
 */
export function handleParameterMessage(kind: string, payload: Buffer, sink: ParameterSink, logger: Logger, limiter: LogLimiter): boolean {
  const result = sink.accept(payload, { kind });
  if (!result.ok) {
    limiter.warn(`parameters-rejected-${kind}`, { kind, problems: result.problems }, 'rejected parameter set, the last good set stays active');
    return false;
  }
  if (result.duplicate) {
    logger.debug({ kind }, 'parameter set already stored');
    return false;
  }
  logger.info({ kind }, 'parameter set stored');
  return true;
}
