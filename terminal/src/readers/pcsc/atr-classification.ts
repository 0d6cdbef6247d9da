import type { CardProtocol } from '../../ports/card-reader.js';

/**
 * What an ATR says about the card in a PC/SC reader. Contactless readers build the ATR by the
 * PC/SC 2.01 part 3 rules: `3B 8n 80 01` then, for ISO 14443-4 cards, the ATS historical bytes;
 * for storage cards, historical bytes `80 4F 0C A0 00 00 03 06 SS NN NN 00 00 00 00`, where SS is
 * the standard and NN NN the card name registered by PC/SC.
 */
export type AtrClassification =
  | { kind: 'iso14443-4' }
  | { kind: 'mifare-classic'; cardName: string }
  | { kind: 'unsupported'; reason: string };

/** PC/SC part 3 card names (NN NN) of the MIFARE Classic family. */
const MIFARE_CLASSIC_NAMES: ReadonlyMap<number, string> = new Map([
  [0x0001, 'MIFARE Classic 1K'],
  [0x0002, 'MIFARE Classic 4K'],
  [0x0026, 'MIFARE Mini'],
]);

/** Registered application provider id of PC/SC storage-card ATRs. */
const PCSC_RID = [0xa0, 0x00, 0x00, 0x03, 0x06];

export function classifyAtr(atr: Uint8Array): AtrClassification {
  if (atr.length < 4 || atr[0] !== 0x3b) return { kind: 'unsupported', reason: `ATR ${hex(atr)} is not a direct-convention ATR` };
  const t0 = atr[1] ?? 0;
  const isContactlessFrame = (t0 & 0xf0) === 0x80 && atr[2] === 0x80 && atr[3] === 0x01;
  if (!isContactlessFrame) return { kind: 'unsupported', reason: `ATR ${hex(atr)} is not a PC/SC contactless ATR (contact card?)` };

  const historical = atr.subarray(4, 4 + (t0 & 0x0f));
  const isStorageCard = historical[0] === 0x80 && historical[1] === 0x4f && PCSC_RID.every((byte, index) => historical[3 + index] === byte);
  if (!isStorageCard) return { kind: 'iso14443-4' };

  const standard = historical[8] ?? 0;
  const cardName = ((historical[9] ?? 0) << 8) | (historical[10] ?? 0);
  const name = MIFARE_CLASSIC_NAMES.get(cardName);
  // Standard 03 is ISO 14443 A part 3, the only one MIFARE Classic uses.
  if (standard === 0x03 && name) return { kind: 'mifare-classic', cardName: name };
  return { kind: 'unsupported', reason: `storage card with standard ${standard.toString(16).padStart(2, '0')} and card name ${cardName.toString(16).padStart(4, '0')} is not supported` };
}

/** The port's card protocol for a supported classification. */
export function protocolOf(classification: AtrClassification): CardProtocol | undefined {
  return classification.kind === 'unsupported' ? undefined : classification.kind;
}

function hex(bytes: Uint8Array): string {
  return Buffer.from(bytes).toString('hex').toUpperCase();
}
