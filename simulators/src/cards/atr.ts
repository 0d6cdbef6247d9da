/**
 * Builds the ATR that a PC/SC contactless reader reports for an ISO 14443-4 card (PC/SC part 3).
 * It is 3B 8n 80 01, then the historical bytes from the ATS, then TCK. TCK is the XOR of every
 * byte from T0 to the last historical byte.
 */
export function contactlessAtr(historicalBytes: Uint8Array): Uint8Array {
  if (historicalBytes.length > 15) throw new RangeError(`an ATR carries at most 15 historical bytes, got ${historicalBytes.length}`);
  const body = Uint8Array.from([0x80 | historicalBytes.length, 0x80, 0x01, ...historicalBytes]);
  const tck = body.reduce((check, byte) => check ^ byte, 0);
  return Uint8Array.from([0x3b, ...body, tck]);
}

/** Historical bytes of the bench's T-Union cards; nfc-pcsc classifies the resulting ATR as ISO 14443-4. */
export const TUNION_CARD_HISTORICAL_BYTES = Uint8Array.of(0x00, 0x00, 0x00, 0x00, 0x71, 0x71, 0x00, 0x81);
/** Historical bytes of the bench's phone applets. A real phone reports the ATS of its own controller. */
export const PHONE_HISTORICAL_BYTES = Uint8Array.of(0x80, 0x73, 0xc8, 0x21, 0x10);
