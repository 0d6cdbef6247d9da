import { concatBytes, diversifyKey, encryptCbc, fromHex, pbocMac, psam } from '@busfare/shared-protocol';

/**
 * Card-security rules the bench's virtual cards and software PSAM share. No public source gives
 * the contents of the MOHURD security identification code or the exact application-block key
 * derivation, so these are this project's choices, with TEST keys only.
 */

/**
 * The application-block key of one card: the issuer's block master key diversified by the
 * rightmost 8 bytes of the ASN, as the purchase keys are. Always 3DES, whatever the purse
 * algorithm, because the PSAM's 80FA works on 8-byte blocks.
 */
export function applicationBlockKey(appBlockMasterKey: Uint8Array, asn8: Uint8Array): Uint8Array {
  return diversifyKey('des', appBlockMasterKey, asn8);
}

/**
 * MAC of APPLICATION BLOCK: 3DES-CBC over the padded command header 84 1E 00 00 04 80 00 00, with
 * the card's 4-byte challenge and four zero bytes as the initial vector; the leftmost 4 bytes.
 */
export function applicationBlockMac(blockKey: Uint8Array, challenge: Uint8Array): Uint8Array {
  const iv = concatBytes(challenge, new Uint8Array(4));
  return encryptCbc('des', blockKey, psam.APPLICATION_BLOCK_MAC_INPUT, iv).slice(0, 4);
}

/**
 * The 9-byte MOHURD security identification code: city code (2) | last 3 bytes of the ASN (3) |
 * MAC (4) over those 5 bytes under the city's verify key. The PSAM checks it with the same key.
 */
export function mohurdVerifyCode(verifyMasterKey: Uint8Array, cityCode: string, asn: string): Uint8Array {
  const head = concatBytes(fromHex(cityCode), fromHex(asn.padStart(16, '0')).slice(-3));
  return concatBytes(head, pbocMac('des', verifyMasterKey, head));
}

/** Checks a 9-byte code against the verify key of the city it names; true when the MAC matches. */
export function checkMohurdVerifyCode(verifyKeyOfCity: (cityCode: string) => Uint8Array | undefined, code: Uint8Array): boolean {
  if (code.length !== 9) return false;
  const head = code.subarray(0, 5);
  const key = verifyKeyOfCity(Buffer.from(code.subarray(0, 2)).toString('hex').toUpperCase());
  if (!key) return false;
  const expected = pbocMac('des', key, head);
  return Buffer.from(expected).equals(Buffer.from(code.subarray(5, 9)));
}
