import type { CheckedPayload } from '../ingest/payload-check.js';
import { columnsOf } from '../store/record-columns.js';

/**
 * Returns a checked payload with its accepted records as plain objects. A record unpacked from the
 * check worker parses its text on first use, so tests compare worker and in-thread results this way.
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
      columns: columnsOf(item),
    })),
  };
}
