import { Writable } from 'node:stream';
import pino from 'pino';
import { describe, expect, it } from 'vitest';
import { CARD_NUMBER_LOG_REDACTION } from '@busfare/shared-protocol';

describe('card numbers in logs', () => {
  it('masks card numbers in log lines at any depth', () => {
    const lines: string[] = [];
    const sink = new Writable({ write: (chunk, _encoding, done) => (lines.push(String(chunk)), done()) });
    const logger = pino({ redact: CARD_NUMBER_LOG_REDACTION }, sink);
    logger.warn({ asn: '58100000000000001234', tap: { asn: '58100000000000005678' }, lock: { card: { asn: '58100000000000009999' } } }, 'tap');
    const line = lines.join('');
    expect(line).not.toContain('58100000000000001234');
    expect(line).not.toContain('58100000000000005678');
    expect(line).not.toContain('58100000000000009999');
    expect(line).toContain('581000**********1234');
  });
});
