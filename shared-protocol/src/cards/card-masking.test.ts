import { describe, expect, it } from 'vitest';
import { maskCardNumber } from './card-masking.js';

describe('card number masking', () => {
  it('keeps six leading and four trailing characters', () => {
    expect(maskCardNumber('58100000000000001234')).toBe('581000**********1234');
  });

  it('keeps only the last four of short numbers', () => {
    expect(maskCardNumber('04A2B3C4')).toBe('****B3C4');
  });
});
