import { describe, expect, it } from 'vitest';
import { RepeatedWarning } from './repeated-warning.js';

describe('RepeatedWarning', () => {
  it('warns first, then once per interval', () => {
    const warning = new RepeatedWarning(3600);

    expect(warning.due(1000)).toBe(true);
    expect(warning.due(1001)).toBe(false);
    expect(warning.due(4599)).toBe(false);
    expect(warning.due(4600)).toBe(true);
  });

  it('warns again after the clock goes back', () => {
    const warning = new RepeatedWarning(3600);

    expect(warning.due(100_000)).toBe(true);
    expect(warning.due(100_000 - 86_400)).toBe(true);
    expect(warning.due(100_000 - 86_400 + 60)).toBe(false);
  });
});
