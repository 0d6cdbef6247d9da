import { AID, concatBytes, encodeTlv } from '@busfare/shared-protocol';

/**
 * FCI of an e-purse application as T-Union and MOHURD cards return it on SELECT: DF name (84)
 * and a proprietary template (A5) with the application version (9F08) and the 30-byte EF15
 * copy (9F0C), so readers can skip READ BINARY of EF15.
 */
export function purseApplicationFci(dfName: Uint8Array, applicationVersion: number, ef15: Uint8Array): Uint8Array {
  const proprietary = encodeTlv(0xa5, concatBytes(encodeTlv(0x9f08, Uint8Array.of(applicationVersion)), encodeTlv(0x9f0c, ef15)));
  return encodeTlv(0x6f, concatBytes(encodeTlv(0x84, dfName), proprietary));
}

/** FCI of the contactless directory (PPSE): one directory entry (61) per application AID (4F) under BF0C. */
export function ppseFci(applicationAids: readonly Uint8Array[]): Uint8Array {
  const entries = applicationAids.map((aid, index) => encodeTlv(0x61, concatBytes(encodeTlv(0x4f, aid), encodeTlv(0x87, Uint8Array.of(index + 1)))));
  const proprietary = encodeTlv(0xa5, encodeTlv(0xbf0c, concatBytes(...entries)));
  return encodeTlv(0x6f, concatBytes(encodeTlv(0x84, AID.ppse), proprietary));
}
