/** Kinds of rejection the exception queue groups by. */
export type RejectionCategory = 'schema' | 'tac' | 'mac' | 'unknown-issuer' | 'key-version' | 'blacklisted' | 'conflict' | 'resolution-link' | 'other';

/** Places an ingest rejection reason in a category, from the wording ingest uses for each check. */
export function categoryOfReason(reason: string): RejectionCategory {
  if (/^invalid (JSON|record|transaction batch|terminal id)|does not match .* in the topic/i.test(reason)) return 'schema';
  if (/key version/i.test(reason)) return 'key-version';
  if (/no (\w+ )?TAC key for|unknown issuer|unsupported/i.test(reason)) return 'unknown-issuer';
  if (/\bMAC\b|MAC2/i.test(reason)) return 'mac';
  if (/TAC/i.test(reason)) return 'tac';
  if (/blacklist/i.test(reason)) return 'blacklisted';
  if (/already stored with different content/i.test(reason)) return 'conflict';
  if (/^resolution /i.test(reason)) return 'resolution-link';
  return 'other';
}
