import type { CardProtocol } from '../../ports/card-reader.js';
import type { TypeATarget } from './pn532-commands.js';

export type TargetIdentity = { protocol: CardProtocol; atr: Uint8Array; cardName: string } | { protocol: undefined; reason: string };

/** SEL_RES (SAK) values of the MIFARE Classic family (NXP AN10833), with the PC/SC part 3 card name. */
const MIFARE_CLASSIC_SAKS: ReadonlyMap<number, { name: string; pcscName: number }> = new Map([
  [0x08, { name: 'MIFARE Classic 1K', pcscName: 0x0001 }],
  [0x88, { name: 'MIFARE Classic 1K', pcscName: 0x0001 }],
  [0x18, { name: 'MIFARE Classic 4K', pcscName: 0x0002 }],
  [0x09, { name: 'MIFARE Mini', pcscName: 0x0026 }],
]);

/**
 * Classifies a type A target by its SAK, and builds the ATR a PC/SC contactless reader would
 * report for it, so that sessions on the serial reader look like those on a PC/SC reader. SAK bit
 * 6 (0x20) means ISO/IEC 14443-4; a dual-interface card (SAK 28) is taken as ISO-DEP, since the
 * purse applications of those cards live there.
 */
export function identifyTarget(target: TypeATarget): TargetIdentity {
  if ((target.sak & 0x20) !== 0) {
    return { protocol: 'iso14443-4', atr: atrFromAts(target.ats ?? new Uint8Array(0)), cardName: 'ISO-DEP' };
  }
  const classic = MIFARE_CLASSIC_SAKS.get(target.sak);
  if (classic) return { protocol: 'mifare-classic', atr: storageCardAtr(classic.pcscName), cardName: classic.name };
  return { protocol: undefined, reason: `SAK ${target.sak.toString(16).padStart(2, '0')} is neither ISO-DEP nor MIFARE Classic` };
}

/** PC/SC part 3 ATR of an ISO 14443-4 card: 3B 8n 80 01, the ATS historical bytes, TCK. */
export function atrFromAts(ats: Uint8Array): Uint8Array {
  const historical = historicalBytes(ats).subarray(0, 15);
  return withTck([0x3b, 0x80 | historical.length, 0x80, 0x01, ...historical]);
}

/** PC/SC part 3 ATR of a storage card with standard 03 (ISO 14443 A part 3) and the given card name. */
export function storageCardAtr(pcscName: number): Uint8Array {
  return withTck([0x3b, 0x8f, 0x80, 0x01, 0x80, 0x4f, 0x0c, 0xa0, 0x00, 0x00, 0x03, 0x06, 0x03, pcscName >>> 8, pcscName & 0xff, 0x00, 0x00, 0x00, 0x00]);
}

/** Extracts the historical bytes of an ATS, which follow TL, T0 and the interface bytes T0 announces. */
export function historicalBytes(ats: Uint8Array): Uint8Array {
  if (ats.length < 2) return new Uint8Array(0);
  const t0 = ats[1]!;
  let at = 2;
  for (const bit of [0x10, 0x20, 0x40]) if ((t0 & bit) !== 0) at += 1;
  return ats.slice(Math.min(at, ats.length), ats[0]);
}

function withTck(bytes: number[]): Uint8Array {
  let tck = 0;
  for (const byte of bytes.slice(1)) tck ^= byte;
  return Uint8Array.from([...bytes, tck]);
}
