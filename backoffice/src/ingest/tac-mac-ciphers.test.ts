import { computeTac, fromHex, toHex } from '@busfare/shared-protocol';
import { describe, expect, it } from 'vitest';
import { TacMacCiphers } from './tac-mac-ciphers.js';

const input = {
  amountFen: 200,
  transactionType: 0x06,
  terminalNumberHex: '112233445566',
  terminalSerial: 7,
  dateTimeHex: '20261204215500',
};

/** Converts the hex fields to the bytes computeTac takes. */
function bytesOf(fields: typeof input) {
  return { ...fields, terminalNumber: fromHex(fields.terminalNumberHex), dateTime: fromHex(fields.dateTimeHex) };
}

describe('TacMacCiphers', () => {
  it('matches computeTac for DES and SM4', () => {
    const ciphers = new TacMacCiphers(4);
    const desKey = fromHex('0123456789ABCDEFFEDCBA9876543210');
    const sm4Key = fromHex('00112233445566778899AABBCCDDEEFF');
    for (let serial = 1; serial <= 3; serial += 1) {
      const record = { ...input, terminalSerial: serial };
      expect(toHex(ciphers.tac('des:card', 'des', desKey, record))).toBe(toHex(computeTac('des', desKey, bytesOf(record))));
      expect(toHex(ciphers.tac('sm4:card', 'sm4', sm4Key, record))).toBe(toHex(computeTac('sm4', sm4Key, bytesOf(record))));
    }
  });

  it('uses a replaced card key', () => {
    const ciphers = new TacMacCiphers(4);
    const first = fromHex('0123456789ABCDEFFEDCBA9876543210');
    const second = fromHex('1111111111111111222222222222222F');
    ciphers.tac('des:card', 'des', first, input);
    expect(toHex(ciphers.tac('des:card', 'des', second, input))).toBe(toHex(computeTac('des', second, bytesOf(input))));
  });

  it('stays correct after eviction', () => {
    const ciphers = new TacMacCiphers(2);
    const keys = ['0123456789ABCDEFFEDCBA9876543210', '1111111111111111222222222222222F', '3333333333333333444444444444444F'].map(fromHex);
    keys.forEach((key, index) => ciphers.tac(`des:${index}`, 'des', key, input));
    keys.forEach((key, index) => expect(toHex(ciphers.tac(`des:${index}`, 'des', key, input))).toBe(toHex(computeTac('des', key, bytesOf(input)))));
  });

  it('matches computeTac over many MACs of two cards in turn', () => {
    const ciphers = new TacMacCiphers(4);
    const desKey = fromHex('0123456789ABCDEFFEDCBA9876543210');
    const sm4Key = fromHex('00112233445566778899AABBCCDDEEFF');
    for (let serial = 1; serial <= 40; serial += 1) {
      const record = { ...input, terminalSerial: serial, amountFen: serial * 37 };
      expect(toHex(ciphers.tac('des:card', 'des', desKey, record))).toBe(toHex(computeTac('des', desKey, bytesOf(record))));
      expect(toHex(ciphers.tac('sm4:card', 'sm4', sm4Key, record))).toBe(toHex(computeTac('sm4', sm4Key, bytesOf(record))));
    }
  });

  it('stays correct after a rejected input', () => {
    const ciphers = new TacMacCiphers(2);
    const desKey = fromHex('0123456789ABCDEFFEDCBA9876543210');
    ciphers.tac('des:card', 'des', desKey, input);
    expect(() => ciphers.tac('des:card', 'des', desKey, { ...input, dateTimeHex: '2026120421550X' })).toThrow(RangeError);
    expect(toHex(ciphers.tac('des:card', 'des', desKey, input))).toBe(toHex(computeTac('des', desKey, bytesOf(input))));
  });

  const key = fromHex('0123456789ABCDEFFEDCBA9876543210');

  it('rejects a short terminal number', () => {
    expect(() => new TacMacCiphers(2).tac('des:card', 'des', key, { ...input, terminalNumberHex: '1122334455' })).toThrow(RangeError);
  });

  it('rejects a non-hex terminal number', () => {
    expect(() => new TacMacCiphers(2).tac('des:card', 'des', key, { ...input, terminalNumberHex: '11223344556G' })).toThrow(RangeError);
  });

  it('rejects a short date and time', () => {
    expect(() => new TacMacCiphers(2).tac('des:card', 'des', key, { ...input, dateTimeHex: '202612042155' })).toThrow(RangeError);
  });

  it('rejects a non-hex date and time', () => {
    expect(() => new TacMacCiphers(2).tac('des:card', 'des', key, { ...input, dateTimeHex: '2026120421550X' })).toThrow(RangeError);
  });

  it('rejects an amount above 4 bytes', () => {
    expect(() => new TacMacCiphers(2).tac('des:card', 'des', key, { ...input, amountFen: 2 ** 32 })).toThrow(RangeError);
  });
});
