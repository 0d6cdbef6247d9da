import { createCipheriv } from 'node:crypto';
import { type CipherFamily, type TransactionRecord, diversifyKey, fromHex, toHex } from '@busfare/shared-protocol';
import { describe, expect, it } from 'vitest';
import { type KeyStore, MemoryKeyStore } from '../keys/key-store.js';
import {
  LOCAL_ISSUER,
  LOCAL_ISSUER_PREFIX,
  LOCAL_SM4_ISSUER,
  OUT_OF_TOWN_ISSUER,
  TEST_DES_MASTER_KEY,
  TEST_KEY_ENTRIES,
  TEST_SM4_MASTER_KEY,
  fakeRecord,
  testKeyStore,
} from '../testing/fake-terminal.js';
import { type TacCheck, TacVerifier } from './tac-verifier.js';

/**
 * Computes the DES TAC from its published definition with node:crypto alone. The card key halves
 * are 3DES(MK, ASN8) and 3DES(MK, NOT ASN8), and their XOR is the single-DES TAC key. The TAC is
 * the first 4 bytes of the last CBC block over the ISO 9797-1 method 2 padded data.
 */
function independentDesTac(masterKeyHex: string, asn: string, data: Buffer): string {
  const masterKey = Buffer.from(masterKeyHex, 'hex');
  const asn8 = Buffer.from(asn.padStart(20, '0'), 'hex').subarray(2);
  const encrypt = (key: Buffer, block: Buffer) => {
    const cipher = createCipheriv('des-ede', key, null);
    cipher.setAutoPadding(false);
    return Buffer.concat([cipher.update(block), cipher.final()]);
  };
  const left = encrypt(masterKey, asn8);
  const right = encrypt(masterKey, Buffer.from(asn8.map((byte) => ~byte & 0xff)));
  const single = Buffer.from(left.map((byte, index) => byte ^ (right[index] ?? 0)));
  const padded = Buffer.alloc((Math.floor(data.length / 8) + 1) * 8);
  data.copy(padded);
  padded[data.length] = 0x80;
  const cbc = createCipheriv('des-ede-cbc', Buffer.concat([single, single]), Buffer.alloc(8));
  cbc.setAutoPadding(false);
  const encrypted = Buffer.concat([cbc.update(padded), cbc.final()]);
  return encrypted.subarray(encrypted.length - 8, encrypted.length - 4).toString('hex').toUpperCase();
}

const verifier = new TacVerifier({ keys: testKeyStore(), localIssuerPrefixes: [LOCAL_ISSUER_PREFIX] });

describe('TAC verifier', () => {
  it('accepts a TAC recomputed independently of shared-protocol', () => {
    const record = fakeRecord({ sequence: 3 });
    const { debit } = record;
    const data = Buffer.concat([
      Buffer.from(debit.amountFen.toString(16).padStart(8, '0'), 'hex'),
      Buffer.of(debit.transactionType),
      Buffer.from(debit.psamTerminalNumber, 'hex'),
      Buffer.from(debit.terminalSerial.toString(16).padStart(8, '0'), 'hex'),
      Buffer.from(debit.cardDateTime, 'hex'),
    ]);
    const tac = independentDesTac(TEST_DES_MASTER_KEY, record.card.asn, data);

    expect(record.debit.tac).toBe(tac);
    expect(verifier.verify({ ...record, debit: { ...debit, tac } })).toEqual({ outcome: 'verified' });
  });

  it('fails a TAC with one changed byte', () => {
    const record = fakeRecord({ sequence: 1 });
    const tac = record.debit.tac ?? '';
    const changed = toHex(Uint8Array.of(Number.parseInt(tac.slice(0, 2), 16) ^ 0x01)) + tac.slice(2);

    expect(verifier.verify({ ...record, debit: { ...record.debit, tac: changed } }).outcome).toBe('failed');
  });

  it('fails when the amount was changed after the card signed it', () => {
    const record = fakeRecord({ sequence: 1, amountFen: 200 });

    expect(verifier.verify({ ...record, debit: { ...record.debit, amountFen: 20 } }).outcome).toBe('failed');
  });

  it('fails an unsupported algorithm id', () => {
    const record = fakeRecord({ sequence: 1 });

    expect(verifier.verify({ ...record, debit: { ...record.debit, algorithmId: 0x02 } })).toEqual({
      outcome: 'failed',
      reason: 'unsupported e-purse algorithm id 0x02: expected 0x00 (3DES) or 0x04 (SM4)',
    });
  });

  it('fails when the issuer has keys of the other algorithm only', () => {
    const record = fakeRecord({ sequence: 1, issuerId: LOCAL_ISSUER, family: 'sm4' });

    expect(verifier.verify(record)).toEqual({ outcome: 'failed', reason: `no sm4 TAC key for issuer ${LOCAL_ISSUER}, whose other keys are held` });
  });

  it('queues an out-of-town T-Union issuer', () => {
    expect(verifier.verify(fakeRecord({ sequence: 1, issuerId: OUT_OF_TOWN_ISSUER }))).toEqual({ outcome: 'queued-for-issuer' });
  });

  it('fails an unknown MOHURD issuer', () => {
    const record = fakeRecord({ sequence: 1, issuerId: OUT_OF_TOWN_ISSUER });
    const mohurd = { ...record, card: { ...record.card, application: 'mohurd' as const } };

    expect(verifier.verify(mohurd)).toEqual({ outcome: 'failed', reason: `no TAC key for mohurd issuer ${OUT_OF_TOWN_ISSUER}` });
  });

  it('queues every keyless T-Union issuer when no local prefix is set', () => {
    const open = new TacVerifier({ keys: new MemoryKeyStore([]), localIssuerPrefixes: [] });

    expect(open.verify(fakeRecord({ sequence: 1 })).outcome).toBe('queued-for-issuer');
  });
});

/** Returns the record with its debit fields replaced. */
function withDebit(record: TransactionRecord, debit: Partial<TransactionRecord['debit']>): TransactionRecord {
  return { ...record, debit: { ...record.debit, ...debit } };
}

/** Returns the reason of a failed check, or an empty string. */
function reasonOf(check: TacCheck): string {
  return check.outcome === 'failed' ? check.reason : '';
}

/** A key store whose master keys can be replaced, as a reload would replace them. */
class ReloadableKeyStore implements KeyStore {
  private keys = new Map<string, Uint8Array>();

  load(issuerId: string, family: CipherFamily, masterKeyHex: string): void {
    this.keys.set(`${issuerId}/${family}`, fromHex(masterKeyHex));
  }

  tacMasterKey(issuerId: string, family: CipherFamily): Uint8Array | undefined {
    return this.keys.get(`${issuerId}/${family}`);
  }

  holdsIssuer(issuerId: string): boolean {
    return [...this.keys.keys()].some((key) => key.startsWith(`${issuerId}/`));
  }

  issuerIds(): string[] {
    return [];
  }
}

/** A key store that derives card keys itself and never hands out a master key, as an HSM does. */
const derivingKeyStore: KeyStore = {
  tacMasterKey: () => undefined,
  holdsIssuer: (issuerId) => TEST_KEY_ENTRIES.some((entry) => entry.issuerId === issuerId),
  issuerIds: () => [],
  deriveCardTacKey: (issuerId, family, factor) => {
    const entry = TEST_KEY_ENTRIES.find((candidate) => candidate.issuerId === issuerId && candidate.algorithm === family);
    return entry === undefined ? undefined : diversifyKey(family, entry.tacMasterKey, factor);
  },
};

describe('TAC verifier fast paths', () => {
  it('verifies many DES and SM4 records signed by computeTac', () => {
    const fresh = new TacVerifier({ keys: testKeyStore(), localIssuerPrefixes: [LOCAL_ISSUER_PREFIX] });
    for (let sequence = 1; sequence <= 300; sequence += 1) {
      // Twelve cards per issuer, so most records reuse a cached card key.
      const asn = `99000001${String(sequence % 12).padStart(12, '0')}`;
      const terminalId = `T${sequence % 5}`;
      const des = fakeRecord({ sequence, asn, terminalId, amountFen: (sequence * 37) % 10_000 });
      const sm4 = fakeRecord({ sequence, asn, terminalId, issuerId: LOCAL_SM4_ISSUER, amountFen: (sequence * 41) % 10_000 });

      expect(fresh.verify(des)).toEqual({ outcome: 'verified' });
      expect(fresh.verify(sm4)).toEqual({ outcome: 'verified' });
    }
  });

  it('fails a TAC with any one hex digit changed', () => {
    for (const issuerId of [LOCAL_ISSUER, LOCAL_SM4_ISSUER]) {
      const record = fakeRecord({ sequence: 9, issuerId });
      const tac = record.debit.tac ?? '';
      for (let index = 0; index < tac.length; index += 1) {
        const digit = ((Number.parseInt(tac[index]!, 16) + 1) % 16).toString(16).toUpperCase();
        const forged = `${tac.slice(0, index)}${digit}${tac.slice(index + 1)}`;

        expect(verifier.verify(withDebit(record, { tac: forged })).outcome).toBe('failed');
      }
      expect(verifier.verify(record).outcome).toBe('verified');
    }
  });

  it('fails a TAC of the wrong length', () => {
    const record = fakeRecord({ sequence: 1 });
    const tac = record.debit.tac ?? '';

    for (const wrong of [tac.slice(0, 6), `${tac}00`, `${tac.slice(0, 7)}`, ' '.repeat(8)]) {
      const check = verifier.verify(withDebit(record, { tac: wrong }));
      expect(check).toEqual({ outcome: 'failed', reason: `TAC must be 8 hex digits (4 bytes), got ${JSON.stringify(wrong)}` });
    }
  });

  it('fails a TAC with a non-hex digit', () => {
    const record = fakeRecord({ sequence: 1 });
    const tac = record.debit.tac ?? '';

    for (const wrong of [`${tac.slice(0, 7)}G`, `-${tac.slice(1)}`, `0x${tac.slice(2)}`, `${tac.slice(0, 7)}\u0660`]) {
      expect(verifier.verify(withDebit(record, { tac: wrong })).outcome).toBe('failed');
    }
  });

  it('accepts a lower-case TAC', () => {
    const record = fakeRecord({ sequence: 1 });

    expect(verifier.verify(withDebit(record, { tac: (record.debit.tac ?? '').toLowerCase() }))).toEqual({ outcome: 'verified' });
  });

  it('fails a malformed terminal number without throwing', () => {
    const record = fakeRecord({ sequence: 1 });

    for (const psamTerminalNumber of ['01020304050G', '0102030405', '0102030405060']) {
      const check = verifier.verify(withDebit(record, { psamTerminalNumber }));
      expect(check.outcome).toBe('failed');
      expect(reasonOf(check)).toMatch(/^record cannot be TAC-checked: terminal number must be 12 hex digits/);
    }
  });

  it('fails a malformed card date and time without throwing', () => {
    const record = fakeRecord({ sequence: 1 });

    const check = verifier.verify(withDebit(record, { cardDateTime: '2025050601301X' }));
    expect(check.outcome).toBe('failed');
    expect(reasonOf(check)).toMatch(/^record cannot be TAC-checked: date and time must be 14 digits/);
  });

  it('fails an amount above 32 bits without throwing', () => {
    const record = fakeRecord({ sequence: 1 });

    for (const amountFen of [2 ** 32, -1, 1.5]) {
      const check = verifier.verify(withDebit(record, { amountFen }));
      expect(check.outcome).toBe('failed');
      expect(reasonOf(check)).toMatch(/^record cannot be TAC-checked: amount must be an unsigned 32-bit integer/);
    }
  });

  it('verifies whatever the key version', () => {
    const record = fakeRecord({ sequence: 1 });

    // The TAC key is the issuer's TAC master key diversified by card. The key version that the
    // card reports names its purchase key and is not part of the TAC input.
    for (const keyVersion of [0, 1, 0x7f, 0xff]) {
      expect(verifier.verify(withDebit(record, { keyVersion }))).toEqual({ outcome: 'verified' });
    }
  });

  it('fails an unknown local issuer', () => {
    const issuerId = '9900FFFFFFFFFFFF';

    expect(verifier.verify(fakeRecord({ sequence: 1, issuerId }))).toEqual({ outcome: 'failed', reason: `no TAC key for local T-Union issuer ${issuerId}` });
  });

  it('uses a reloaded master key at once', () => {
    const keys = new ReloadableKeyStore();
    keys.load(LOCAL_ISSUER, 'des', TEST_DES_MASTER_KEY);
    const reloading = new TacVerifier({ keys, localIssuerPrefixes: [LOCAL_ISSUER_PREFIX] });
    const record = fakeRecord({ sequence: 1 });
    expect(reloading.verify(record)).toEqual({ outcome: 'verified' });

    keys.load(LOCAL_ISSUER, 'des', TEST_SM4_MASTER_KEY);

    expect(reloading.verify(record).outcome).toBe('failed');
  });

  it('stays correct when the card key cache evicts', () => {
    const small = new TacVerifier({ keys: testKeyStore(), localIssuerPrefixes: [LOCAL_ISSUER_PREFIX], cardKeyCacheSize: 2, cardCipherCacheSize: 2 });
    const records = [1, 2, 3, 4, 5].flatMap((card) => [
      fakeRecord({ sequence: card, asn: `99000001${String(card).padStart(12, '0')}` }),
      fakeRecord({ sequence: card, asn: `99000002${String(card).padStart(12, '0')}`, issuerId: LOCAL_SM4_ISSUER }),
    ]);

    for (let pass = 0; pass < 2; pass += 1) {
      for (const record of records) expect(small.verify(record)).toEqual({ outcome: 'verified' });
    }
    expect(small.verify(withDebit(records[0]!, { amountFen: 1 })).outcome).toBe('failed');
  });

  it('keeps one card number of two issuers apart', () => {
    const asn = '99000001000000000042';
    const des = fakeRecord({ sequence: 1, asn });
    const sm4 = fakeRecord({ sequence: 1, asn, issuerId: LOCAL_SM4_ISSUER });

    for (let pass = 0; pass < 3; pass += 1) {
      expect(verifier.verify(des)).toEqual({ outcome: 'verified' });
      expect(verifier.verify(sm4)).toEqual({ outcome: 'verified' });
      expect(verifier.verify(withDebit(des, { tac: sm4.debit.tac })).outcome).toBe('failed');
    }
  });

  it('keeps the families of one key object apart', () => {
    // fakeRecord signs records of an issuer without a test key under A5…A5, for either family.
    const issuerId = '99000009FFFFFFFF';
    const sharedKey = fromHex('A5'.repeat(16));
    const keys = new MemoryKeyStore([
      { issuerId, algorithm: 'des', tacMasterKey: sharedKey, test: true },
      { issuerId, algorithm: 'sm4', tacMasterKey: sharedKey, test: true },
    ]);
    const shared = new TacVerifier({ keys, localIssuerPrefixes: [LOCAL_ISSUER_PREFIX] });

    for (let sequence = 1; sequence <= 3; sequence += 1) {
      expect(shared.verify(fakeRecord({ sequence, issuerId, family: 'des' }))).toEqual({ outcome: 'verified' });
      expect(shared.verify(fakeRecord({ sequence, issuerId, family: 'sm4' }))).toEqual({ outcome: 'verified' });
    }
  });

  it('verifies with a key store that derives card keys', () => {
    const hsm = new TacVerifier({ keys: derivingKeyStore, localIssuerPrefixes: [LOCAL_ISSUER_PREFIX] });

    for (const issuerId of [LOCAL_ISSUER, LOCAL_SM4_ISSUER]) {
      const record = fakeRecord({ sequence: 3, issuerId });
      expect(hsm.verify(record)).toEqual({ outcome: 'verified' });
      expect(hsm.verify(withDebit(record, { amountFen: 1 })).outcome).toBe('failed');
      expect(hsm.verify(withDebit(record, { tac: 'ABC' })).outcome).toBe('failed');
      expect(hsm.verify(withDebit(record, { psamTerminalNumber: 'ZZ0203040506' })).outcome).toBe('failed');
    }
    expect(hsm.verify(fakeRecord({ sequence: 1, issuerId: OUT_OF_TOWN_ISSUER }))).toEqual({ outcome: 'queued-for-issuer' });
  });
});
