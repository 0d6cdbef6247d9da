import { type TerminalStatus, positionBatchSchema, shiftRecordSchema, terminalIdFromTopic, terminalStatusSchema } from '@busfare/shared-protocol';
import type { z } from 'zod';
import type { ClearingRepository } from '../store/clearing-repository.js';
import { describeIssues } from '../zod-issues.js';

export type TelemetryOutcome =
  | { kind: 'stored'; terminalId: string; count: number; status?: TerminalStatus }
  | { kind: 'payload-rejected'; terminalId: string; reason: string };

/** Stores one position batch, or keeps it as rejected with the reason. */
export function ingestPositions(repository: ClearingRepository, topic: string, payload: string): TelemetryOutcome {
  const terminalId = terminalIdFromTopic(topic) ?? '';
  const checked = checkPayload(payload, positionBatchSchema, 'position batch', terminalId);
  if ('reason' in checked) return reject(repository, topic, terminalId, payload, checked.reason);
  return { kind: 'stored', terminalId, count: repository.storePositions(checked.value) };
}

/**
 * Stores a terminal's status as its latest one. An empty payload is the MQTT way to clear a
 * retained message and is ignored.
 */
export function ingestStatus(repository: ClearingRepository, topic: string, payload: string): TelemetryOutcome {
  const terminalId = terminalIdFromTopic(topic) ?? '';
  if (payload.length === 0) return { kind: 'stored', terminalId, count: 0 };
  const checked = checkPayload(payload, terminalStatusSchema, 'terminal status', terminalId);
  if ('reason' in checked) return reject(repository, topic, terminalId, payload, checked.reason);
  repository.storeStatus(checked.value);
  return { kind: 'stored', terminalId, count: 1, status: checked.value };
}

/**
 * Stores a driver's shift record for reconciliation against the terminal's transactions. A record
 * already stored under the same shift id is a resend and stores nothing new.
 */
export function ingestShift(repository: ClearingRepository, topic: string, payload: string): TelemetryOutcome {
  const terminalId = terminalIdFromTopic(topic) ?? '';
  const checked = checkPayload(payload, shiftRecordSchema, 'shift record', terminalId);
  if ('reason' in checked) return reject(repository, topic, terminalId, payload, checked.reason);
  return { kind: 'stored', terminalId, count: repository.storeShift(checked.value) ? 1 : 0 };
}

function checkPayload<S extends z.ZodType<{ terminalId: string }>>(
  payload: string,
  schema: S,
  what: string,
  topicTerminalId: string,
): { value: z.infer<S> } | { reason: string } {
  let json: unknown;
  try {
    json = JSON.parse(payload);
  } catch (error) {
    return { reason: `invalid JSON: ${error instanceof Error ? error.message : String(error)}` };
  }
  const result = schema.safeParse(json);
  if (!result.success) return { reason: `invalid ${what}: ${describeIssues(result.error).join('; ')}` };
  if (result.data.terminalId !== topicTerminalId) {
    return { reason: `terminal id "${result.data.terminalId}" in the payload does not match "${topicTerminalId}" in the topic` };
  }
  return { value: result.data };
}

function reject(repository: ClearingRepository, topic: string, terminalId: string, payload: string, reason: string): TelemetryOutcome {
  repository.addRejected({ terminalId, topic, sequence: null, reason, payload });
  return { kind: 'payload-rejected', terminalId, reason };
}
