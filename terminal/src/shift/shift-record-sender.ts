import type { ShiftRecord } from '@busfare/shared-protocol';

/**
 * Delivers a finished shift record to the back office; resolves once the broker has it. The
 * terminal uplink's `publishShift` is the production sender.
 * NOTE: the broker's PUBACK counts as delivery, because the back office sends no acknowledgement
 * for shift records; ingest stores them idempotently by shift id, so a resent record is harmless.
 */
export interface ShiftRecordSender {
  send(record: ShiftRecord): Promise<void>;
}
