import { describe, expect, it } from 'vitest';
import { ConsoleInputError, cardNumberOf, yuanToFen } from './console-input.js';

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
