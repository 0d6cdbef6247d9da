import { describe, expect, it } from 'vitest';
import { blacklistKeyOf } from './blacklist-key.js';

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
