import { computeTac, concatBytes, fromHex, padIso9797M2, toHex, u32be } from '@busfare/shared-protocol';
import { describe, expect, it } from 'vitest';
import { TacMacCiphers, readHex32, writeTacData } from './tac-mac-ciphers.js';

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

describe('writeTacData', () => {
  /** Returns the padded TAC input as hex, with the field encoding that computeTac uses. */
  function expectedData(fields: typeof input, size: number): string {
    const { terminalNumber, dateTime } = bytesOf(fields);
    const data = concatBytes(u32be(fields.amountFen), Uint8Array.of(fields.transactionType), terminalNumber, u32be(fields.terminalSerial), dateTime);
    return toHex(padIso9797M2(data, size));
  }

  it('writes the DES and SM4 layouts over a reused buffer', () => {
    // DES pads 22 bytes to three 8-byte blocks, SM4 to two 16-byte blocks.
    for (const [length, blockSize] of [[24, 8], [32, 16]] as const) {
      const target = new Uint8Array(length).fill(0xaa);
      const fields = { ...input, amountFen: 0xfedcba98, terminalSerial: 0x01020304, terminalNumberHex: 'a1b2c3d4e5f6' };

      writeTacData(target, fields);

      expect(toHex(target)).toBe(expectedData(fields, blockSize));
    }
  });

  it('rejects a buffer without room for the padding', () => {
    expect(() => writeTacData(new Uint8Array(22), input)).toThrow(RangeError);
  });

  it('rejects a non-integer terminal serial', () => {
    expect(() => writeTacData(new Uint8Array(24), { ...input, terminalSerial: 1.5 })).toThrow(RangeError);
  });

  it('rejects a negative amount', () => {
    expect(() => writeTacData(new Uint8Array(24), { ...input, amountFen: -1 })).toThrow(RangeError);
  });
});

describe('readHex32', () => {
  it.each([
    ['00000000', 0],
    ['FFFFFFFF', 0xffffffff],
    ['1a2B3c4D', 0x1a2b3c4d],
  ])('reads %s', (text, value) => {
    expect(readHex32(text)).toBe(value);
  });

  it.each([[''], ['1234567'], ['123456789'], ['1234567G'], ['+1234567'], [' 1234567'], ['0x123456'], ['1234567\u0661']])('rejects "%s"', (text) => {
    expect(readHex32(text)).toBe(-1);
  });
});
