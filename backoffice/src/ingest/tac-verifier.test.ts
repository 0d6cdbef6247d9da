import { createCipheriv } from 'node:crypto';
import { toHex } from '@busfare/shared-protocol';
import { describe, expect, it } from 'vitest';
import { MemoryKeyStore } from '../keys/key-store.js';
import { LOCAL_ISSUER, LOCAL_ISSUER_PREFIX, OUT_OF_TOWN_ISSUER, TEST_DES_MASTER_KEY, fakeRecord, testKeyStore } from '../testing/fake-terminal.js';
import { TacVerifier } from './tac-verifier.js';

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
