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
});
