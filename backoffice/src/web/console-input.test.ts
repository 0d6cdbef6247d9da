import { describe, expect, it } from 'vitest';
import { blacklistKeyOf } from '../params/blacklist-key.js';
import { ConsoleInputError, cardNumberOf, yuanToFen } from './console-input.js';

describe('blacklistKeyOf', () => {
  it('takes the right-most 8 bytes of a full card number', () => {
    expect(blacklistKeyOf('58100001000000000330')).toBe('0001000000000330');
  });

  it('keeps a 16-digit key', () => {
    expect(blacklistKeyOf('0001000000000330')).toBe('0001000000000330');
  });

  it('upper-cases and trims', () => {
    expect(blacklistKeyOf(' 5810000100000000abcd\t')).toBe('000100000000ABCD');
  });

  it.each(['0330', '000000000330', '58100001000000000330FF', '581000010000000003', 'G001000000000330', '0001 0000 0000 0330', ''])('rejects %j', (text) => {
    expect(blacklistKeyOf(text)).toBeUndefined();
  });
});

describe('cardNumberOf', () => {
  it('upper-cases a card number', () => {
    expect(cardNumberOf(' 5810000100000000abcd ')).toBe('5810000100000000ABCD');
  });

  it.each([undefined, '', '0330', '1234567890123456789012', '5810-0001'])('rejects %j with a catalogue message', (text) => {
    let caught: unknown;
    try {
      cardNumberOf(text);
    } catch (error) {
      caught = error;
    }
    expect(caught).toBeInstanceOf(ConsoleInputError);
    expect((caught as ConsoleInputError).messageId).toBe('ops.input.cardNumber');
    expect((caught as ConsoleInputError).params).toEqual({ value: (text ?? '').trim() });
  });
});

describe('yuanToFen', () => {
  it.each([
    ['2.5', 250],
    ['20', 2000],
    ['-1.05', -105],
    [' 0.01 ', 1],
  ])('parses %j', (text, fen) => {
    expect(yuanToFen(text)).toBe(fen);
  });

  it.each(['1.234', '', 'abc', '1,50', '12345678'])('rejects %j', (text) => {
    expect(() => yuanToFen(text)).toThrow(ConsoleInputError);
  });
});
