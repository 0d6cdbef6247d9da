import { blacklistBodySchema, sortedIncludesAsn } from '@busfare/shared-protocol';
import { fullBlacklistEntries } from '../params/authoring.js';
import type { StoredPublication } from '../params/parameter-repository.js';
import type { BlacklistLookup } from './customer-service.js';

/** The published blacklist sets, as the parameter repository stores them. */
export interface BlacklistSource {
  latestFullBlacklist(): StoredPublication | undefined;
  latest(kind: 'blacklist'): StoredPublication | undefined;
}

/**
 * Looks a card up in the newest published blacklist: the newest full list with the newest delta
 * on top of it. Blacklists key a card by the right-most 8 bytes of its ASN (16 hex digits). It
 * reads the lists on every call, which suits the rare customer-service checks it serves.
 */
export function blacklistLookup(source: BlacklistSource): BlacklistLookup {
  return (asn) => {
    const key = asn.toUpperCase().slice(-16).padStart(16, '0');
    const full = source.latestFullBlacklist();
    const latest = source.latest('blacklist');
    if (full && latest && latest.set.version > full.set.version) {
      const delta = blacklistBodySchema.parse(latest.set.body);
      if (delta.mode === 'delta' && delta.add.includes(key)) return true;
      if (delta.mode === 'delta' && delta.remove.includes(key)) return false;
    }
    return full !== undefined && sortedIncludesAsn(fullBlacklistEntries(full), key);
  };
}
