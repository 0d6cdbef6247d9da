import { describe, expect, it } from 'vitest';
import { maskCardNumber } from '../../backoffice/src/security/card-masking.js';

describe('card number masking', () => {
  it('keeps six leading and four trailing digits', () => {
    expect(maskCardNumber('99000001000000001234')).toBe('990000**********1234');
    expect(maskCardNumber('3104123456789012')).toBe('310412******9012');
  });

  it('keeps only four digits of a short number', () => {
    expect(maskCardNumber('0A1B2C3D')).toBe('****2C3D');
    expect(maskCardNumber('1234567890')).toBe('******7890');
    expect(maskCardNumber('123')).toBe('123');
  });
});
