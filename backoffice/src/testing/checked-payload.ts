import type { CheckedPayload } from '../ingest/payload-check.js';
import { type RecordColumns, columnsOf } from '../store/record-columns.js';

/**
 * Returns a checked payload with its accepted records as plain objects. A record unpacked from the
 * check worker parses its text on first use, so tests compare worker and in-thread results this way.
 * Claim keys, which only the worker packs, are left out.
 */
export function plainCheckedPayload(checked: CheckedPayload): CheckedPayload {
  if (checked.kind !== 'checked-batch') return checked;
  return {
    ...checked,
    accepted: checked.accepted.map((item) => ({
      terminalId: item.terminalId,
      record: item.record,
      verification: item.verification,
      businessDay: item.businessDay,
      raw: item.raw,
      columns: withoutClaimKeys(columnsOf(item)),
    })),
  };
}

/** Returns the columns without the claim keys, which only records from the check worker carry. */
export function withoutClaimKeys(columns: RecordColumns): RecordColumns {
  const { claimKeys: _claimKeys, ...rest } = columns;
  return rest;
}
