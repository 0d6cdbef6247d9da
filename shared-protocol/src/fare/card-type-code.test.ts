import { describe, expect, it } from 'vitest';
import { cardTypeOfCode } from './card-type-code.js';

describe('cardTypeOfCode', () => {
  it('finds a decimal key', () => {
    expect(cardTypeOfCode({ '3': 'senior' }, 3)).toBe('senior');
  });

  it('finds a key with leading zeros', () => {
    expect(cardTypeOfCode({ '03': 'senior', '1': 'ordinary' }, 3)).toBe('senior');
  });

  it('finds no unknown code', () => {
    expect(cardTypeOfCode({ '03': 'senior' }, 30)).toBeUndefined();
  });
});
