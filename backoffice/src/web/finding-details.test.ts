import { describe, expect, it } from 'vitest';
import { findingDetailParts } from './finding-details.js';

describe('findingDetailParts', () => {
  it('labels an in-doubt record in Chinese', () => {
    expect(findingDetailParts({ amountFen: 100, cardCounter: 0 }, 'zh')).toEqual(['金额（元） 1.00', '卡交易序号 0']);
  });

  it('labels an in-doubt record in English', () => {
    expect(findingDetailParts({ amountFen: 100, cardCounter: 0 }, 'en')).toEqual(['Amount (yuan) 1.00', 'Card counter 0']);
  });

  it('names a shift amount counter and shows yuan', () => {
    expect(findingDetailParts({ field: 'byCardType.student.amountFen', terminal: 150, records: 100 }, 'zh')).toEqual(['统计项 学生卡金额', '终端统计 1.50', '记录统计 1.00']);
  });

  it('keeps a count counter as a number', () => {
    expect(findingDetailParts({ field: 'accepted', terminal: 3, records: 2 }, 'en')).toEqual(['Counter Debits', "Terminal&#39;s count 3", 'Count from records 2']);
  });

  it('names a rejection category', () => {
    expect(findingDetailParts({ rejectedId: 7, category: 'tac', reason: 'TAC <bad>' }, 'zh')).toEqual(['拒收编号 7', '类别 TAC校验失败', '原因 TAC &lt;bad&gt;']);
  });

  it('shows an unknown key as stored', () => {
    expect(findingDetailParts({ extra: 'x' }, 'en')).toEqual(['extra x']);
  });

  it('escapes a hostile batch id and reason', () => {
    const parts = findingDetailParts({ batchId: '<img src=x onerror=alert(1)>', reason: '"><script>x</script>' }, 'en');
    expect(parts.join(' ')).not.toMatch(/<|>|"/);
  });

  it('shows odd fen amounts as yuan', () => {
    expect(findingDetailParts({ amountFen: 1 }, 'en')).toEqual(['Amount (yuan) 0.01']);
    expect(findingDetailParts({ amountFen: 199 }, 'en')).toEqual(['Amount (yuan) 1.99']);
    expect(findingDetailParts({ amountFen: -1 }, 'en')).toEqual(['Amount (yuan) -0.01']);
    expect(findingDetailParts({ field: 'amountFen', terminal: -199, records: 0 }, 'zh')).toEqual(['统计项 金额', '终端统计 -1.99', '记录统计 0.00']);
  });

  it('labels every detail key of every finding kind', () => {
    const detailsByKind: Record<string, string | number>[] = [
      { count: 2, shiftId: 's1, s2' },
      { batchId: 'b1', duplicates: 3, stored: 0 },
      { rejectedId: 7, category: 'other', reason: 'r' },
      { amountFen: 100, cardCounter: 4 },
      { field: 'inDoubt', terminal: 1, records: 0 },
      { previousTerminal: 'T1', previousSequence: 9, previousCounter: 4, counter: 4, amountFen: 200 },
    ];
    for (const language of ['zh', 'en'] as const) {
      for (const details of detailsByKind) {
        for (const [index, part] of findingDetailParts(details, language).entries()) {
          const key = Object.keys(details)[index]!;
          expect(part.startsWith(`${key} `), `${language} ${key}`).toBe(false);
          expect(part).not.toContain('=');
        }
      }
    }
  });
});
