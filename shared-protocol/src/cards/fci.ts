import { toHex } from '../bytes.js';
import { findAllTlv, findTlv, parseTlv } from '../apdu/tlv.js';

/** What a bus reader needs from a SELECT answer (the FCI template, tag 6F). */
export interface Fci {
  dfName?: string;
  /** Tag 9F0C: a copy of EF15 on T-Union and MOHURD cards, so EF15 need not be read. */
  issuerDiscretionary?: Uint8Array;
  /** Tag 9F08: application version. */
  applicationVersion?: number;
  /** Application ids listed by a PPSE (tag 4F inside 61 entries of BF0C). */
  directoryAids: string[];
}

export function parseFci(data: Uint8Array): Fci {
  const objects = parseTlv(data);
  const dfName = findTlv(objects, 0x84);
  const discretionary = findTlv(objects, 0x9f0c);
  const version = findTlv(objects, 0x9f08);
  return {
    dfName: dfName ? toHex(dfName.value) : undefined,
    issuerDiscretionary: discretionary ? discretionary.value.slice() : undefined,
    applicationVersion: version && version.value.length > 0 ? version.value[version.value.length - 1] : undefined,
    directoryAids: findAllTlv(objects, 0x4f).map((entry) => toHex(entry.value)),
  };
}
