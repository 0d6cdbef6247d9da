import type { TapOutcome } from '@busfare/terminal';
import { describe, expect, it } from 'vitest';
import type { TapRecordOutcome } from './bench-report.js';
import { DRAINING_LINE, summaryLine } from './run-console.js';

const COUNTS = { seconds: 35, stored: 7, synced: 6, cleared: 6, backlog: 1 };

function tapsWith(statuses: TapOutcome['status'][]): TapRecordOutcome[] {
  return statuses.map((status) => ({ terminalId: 'T001', outcome: { status, promptId: 'fare-paid', cardApdus: 0, psamApdus: 0, durationMs: 0 } }));
}

/** Reads the number after `label` on a progress line. */
function countAfter(line: string, label: string): number {
  const match = new RegExp(`${label} (\\d+)`).exec(line);
  if (!match) throw new Error(`"${label}" not found in: ${line}`);
  return Number(match[1]);
}

/** Chinese characters followed by ASCII punctuation, which Chinese text writes full-width. */
const ASCII_PUNCTUATION_IN_CHINESE = /[\u4e00-\u9fff][,;:()?!]/;

describe('bench progress line', () => {
  const line = summaryLine(tapsWith(['accepted', 'accepted', 'accepted', 'recovered', 'refused', 'refused', 'in-doubt', 'failed', 'failed']), COUNTS);

  it('counts failed taps', () => {
    expect(line).toContain('失败 failed 2');
  });

  it('parts add up to the taps', () => {
    const parts = ['accepted', 'refused', 'in-doubt', 'failed'].map((label) => countAfter(line, label));

    expect(countAfter(line, 'taps')).toBe(9);
    expect(parts).toEqual([4, 2, 1, 2]);
    expect(parts.reduce((sum, part) => sum + part, 0)).toBe(9);
  });

  it('calls in-doubt taps 灰记录', () => {
    expect(line).toContain('灰记录 in-doubt 1');
    expect(line).not.toContain('可疑');
  });

  it('shows the record counts', () => {
    expect(line).toMatch(/^\[35s\] /);
    expect(line).toContain('存储 stored 7  已上传 synced 6  已清分 cleared 6  积压 backlog 1');
  });

  it('shows zero for an empty run', () => {
    const empty = summaryLine([], COUNTS);

    expect(countAfter(empty, 'taps')).toBe(0);
    expect(countAfter(empty, 'failed')).toBe(0);
  });
});

describe('bench console Chinese punctuation', () => {
  it('draining line uses full-width punctuation', () => {
    expect(DRAINING_LINE).toContain('停止乘客，清空积压');
    expect(DRAINING_LINE).not.toMatch(ASCII_PUNCTUATION_IN_CHINESE);
  });

  it('progress line uses no ASCII punctuation in Chinese', () => {
    expect(summaryLine(tapsWith(['accepted']), COUNTS)).not.toMatch(ASCII_PUNCTUATION_IN_CHINESE);
  });
});
