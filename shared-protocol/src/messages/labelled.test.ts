import { describe, expect, it } from 'vitest';
import { labelled } from './catalogue.js';

describe('labelled', () => {
  it('uses a full-width colon in Chinese', () => {
    expect(labelled('zh', '余额（元）', '8.00')).toBe('余额（元）：8.00');
  });

  it('uses a colon and a space in English', () => {
    expect(labelled('en', 'Balance (yuan)', 8)).toBe('Balance (yuan): 8');
  });

  it('ends a heading with the colon alone', () => {
    expect(labelled('en', 'Purse log', '')).toBe('Purse log:');
    expect(labelled('zh', '交易明细', '')).toBe('交易明细：');
  });
});
