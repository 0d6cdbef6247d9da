import { describe, expect, it } from 'vitest';
import { fromHex, notBytes, toHex, concatBytes } from '../bytes.js';
import { ecbEncrypter, encryptEcb, pbocMac } from './cipher.js';
import { cardKeyDiversifier, computeMac1, computeMac2, computeTac, diversifyKey, purchaseSessionKey } from './epurse.js';

// Public worked example of a PBOC e-purse purchase (cnblogs "基于PBOC电子钱包的消费过程详解").
const purchaseKey = fromHex('11223344556677888877665544332211');
const sessionInput = { cardRandom: fromHex('11223344'), cardCounter: 0x0000, terminalSerial: 0x0001 };
const macInput = { amountFen: 0x1000, transactionType: 0x06, terminalNumber: fromHex('001122334455'), dateTime: fromHex('20120229135100') };

describe('PBOC e-purse worked example', () => {
  it('derives the published session key', () => {
    expect(toHex(purchaseSessionKey('des', purchaseKey, sessionInput))).toBe('003238ABC57659DD');
  });

  it('computes the published MAC1', () => {
    const sessionKey = purchaseSessionKey('des', purchaseKey, sessionInput);
    expect(toHex(computeMac1('des', sessionKey, macInput))).toBe('F15CAB75');
  });

  it('computes the published MAC2', () => {
    const sessionKey = purchaseSessionKey('des', purchaseKey, sessionInput);
    expect(toHex(computeMac2('des', sessionKey, 0x1000))).toBe('56988A13');
  });
});

describe('key diversification and TAC', () => {
  const master = fromHex('0123456789ABCDEFFEDCBA9876543210');
  const asn8 = fromHex('0000000012345678');

  it('diversifies DES keys as 3DES(MK, ASN) and 3DES(MK, NOT ASN)', () => {
    const key = diversifyKey('des', master, asn8);
    expect(toHex(key.subarray(0, 8))).toBe(toHex(encryptEcb('des', master, asn8)));
    expect(toHex(key.subarray(8))).toBe(toHex(encryptEcb('des', master, notBytes(asn8))));
  });

  it('computes a DES TAC under left XOR right of the TAC key', () => {
    const tacKey = diversifyKey('des', master, asn8);
    const folded = tacKey.subarray(0, 8).map((b, i) => b ^ (tacKey[i + 8] ?? 0));
    const data = concatBytes(fromHex('00001000'), fromHex('06'), fromHex('001122334455'), fromHex('00000001'), fromHex('20120229135100'));
    const expected = pbocMac('des', folded, data);
    expect(toHex(computeTac('des', tacKey, { ...macInput, terminalSerial: 1 }))).toBe(toHex(expected));
  });

  it('gives SM4 and DES different but stable results', () => {
    const desKey = diversifyKey('des', master, asn8);
    const smKey = diversifyKey('sm4', master, asn8);
    expect(smKey).toHaveLength(16);
    expect(toHex(smKey)).not.toBe(toHex(desKey));
    const session = purchaseSessionKey('sm4', smKey, sessionInput);
    expect(session).toHaveLength(16);
    expect(toHex(computeMac1('sm4', session, macInput))).toBe(toHex(computeMac1('sm4', session, macInput)));
    expect(computeMac2('sm4', session, 100)).toHaveLength(4);
  });
});

describe('cardKeyDiversifier', () => {
  const master = fromHex('0123456789ABCDEFFEDCBA9876543210');

  it('derives the keys diversifyKey derives', () => {
    for (const family of ['des', 'sm4'] as const) {
      const diversify = cardKeyDiversifier(family, master);
      for (let card = 0; card < 50; card += 1) {
        const asn8 = fromHex(`58100001${card.toString(16).padStart(8, '0')}`);

        expect(toHex(diversify(asn8))).toBe(toHex(diversifyKey(family, master, asn8)));
      }
    }
  });

  it('returns a key that a later call leaves unchanged', () => {
    const diversify = cardKeyDiversifier('des', master);
    const first = diversify(fromHex('0000000000000001'));
    const firstHex = toHex(first);

    diversify(fromHex('0000000000000002'));

    expect(toHex(first)).toBe(firstHex);
  });

  it('rejects a master key of 8 bytes', () => {
    expect(() => cardKeyDiversifier('des', fromHex('0123456789ABCDEF'))).toThrow('master key must be 16 bytes, got 8');
  });

  it('rejects a factor of 7 bytes', () => {
    expect(() => cardKeyDiversifier('sm4', master)(fromHex('00000000123456'))).toThrow('diversification factor must be 8 bytes, got 7');
  });
});

describe('ecbEncrypter', () => {
  const key = fromHex('0123456789ABCDEFFEDCBA9876543210');

  it('encrypts as encryptEcb across calls', () => {
    for (const family of ['des', 'sm4'] as const) {
      const encrypt = ecbEncrypter(family, key);
      for (const hex of ['00'.repeat(16), 'FF'.repeat(32), '0123456789ABCDEF'.repeat(4)]) {
        expect(toHex(encrypt(fromHex(hex)))).toBe(toHex(encryptEcb(family, key, fromHex(hex))));
      }
    }
  });

  it('rejects data that is not whole blocks', () => {
    expect(() => ecbEncrypter('sm4', key)(new Uint8Array(8))).toThrow('ECB input must be a non-empty multiple of 16 bytes, got 8');
  });

  it('rejects a DES key of 12 bytes', () => {
    expect(() => ecbEncrypter('des', new Uint8Array(12))).toThrow(RangeError);
  });
});
