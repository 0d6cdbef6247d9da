import { describe, expect, it } from 'vitest';
import { resolveLogLevel } from './log-level.js';

describe('resolveLogLevel', () => {
  it('defaults to info', () => {
    expect(resolveLogLevel(undefined)).toEqual({ level: 'info' });
    expect(resolveLogLevel('')).toEqual({ level: 'info' });
  });

  it('accepts a level in any case', () => {
    expect(resolveLogLevel('warn')).toEqual({ level: 'warn' });
    expect(resolveLogLevel(' DEBUG ')).toEqual({ level: 'debug' });
  });

  it('reports an unknown level', () => {
    const resolved = resolveLogLevel('bogus');

    expect(resolved.level).toBe('info');
    expect(resolved.problem).toBe('invalid BUSFARE_LOG_LEVEL "bogus": expected one of fatal, error, warn, info, debug, trace, silent; logging at info');
  });
});
