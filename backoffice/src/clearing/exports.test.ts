import ExcelJS from 'exceljs';
import { parse } from 'csv-parse/sync';
import { afterEach, describe, expect, it } from 'vitest';
import { OUT_OF_TOWN_ISSUER, fakeRecord } from '../testing/fake-terminal.js';
import { type ClearingFixture, openClearingFixture } from '../testing/clearing-fixture.js';

const onDay6 = (minutes: number) => new Date(Date.UTC(2025, 4, 6, 1, minutes));

describe('settlement exports', () => {
  let fixture: ClearingFixture;
  afterEach(() => fixture?.close());

  function settledDay(): void {
    fixture = openClearingFixture('2025-05-06T19:00:00Z');
    fixture.ingest('T1', 'b1', [
      fakeRecord({ sequence: 1, occurredAt: onDay6(1), amountFen: 200 }),
      fakeRecord({ sequence: 2, occurredAt: onDay6(2), amountFen: 100 }),
      fakeRecord({ sequence: 3, occurredAt: onDay6(3), issuerId: OUT_OF_TOWN_ISSUER, asn: '12340000000000000003' }),
    ]);
    fixture.centre.stores.settlement.recordVerdicts([{ terminalId: 'T1', sequence: 3, verdict: 'confirmed' }], 'answer.txt');
    fixture.centre.settlement.settle('2025-05-06', 'alice');
  }

  it('writes CSV with Chinese headers and a BOM', async () => {
    settledDay();
    const file = await fixture.centre.settlementExport('2025-05-06', 'csv', 'zh');
    expect(file.fileName).toBe('settlement-2025-05-06.csv');
    const text = file.body.toString('utf8');
    expect(text.charCodeAt(0)).toBe(0xfeff);
    const rows = parse(text, { bom: true, columns: true }) as Record<string, string>[];
    expect(rows).toHaveLength(3);
    expect(Object.keys(rows[0]!)).toContain('实收（元）');
    expect(rows.map((row) => row['实收（元）'])).toEqual(['2.00', '1.00', '2.00']);
    expect(rows.map((row) => row['优惠（元）'])).toEqual(['0.00', '1.00', '0.00']);
    expect(rows[0]?.['卡号']).toBe('99000001000000001001');
  });

  it('writes English headers on request', async () => {
    settledDay();
    const file = await fixture.centre.settlementExport('2025-05-06', 'csv', 'en');
    const [header] = file.body.toString('utf8').replace(/^\uFEFF/, '').split('\r\n');
    expect(header).toContain('Amount charged (yuan)');
  });

  it('writes an Excel workbook finance can open', async () => {
    settledDay();
    const file = await fixture.centre.settlementExport('2025-05-06', 'xlsx', 'zh');
    const workbook = new ExcelJS.Workbook();
    await workbook.xlsx.load(file.body as unknown as ExcelJS.Buffer);
    const names = workbook.worksheets.map((sheet) => sheet.name);
    expect(names).toEqual(['汇总', '异地城市往来', '按发卡机构类别', '按发卡机构', '按运营单位', '按线路', '按车辆', '按终端', '按班次', '按卡类型', '客服调整', '明细']);
    const summary = workbook.getWorksheet('汇总')!;
    expect(summary.getRow(7).values).toEqual([undefined, '实收（元）', 5]);
    const partners = workbook.getWorksheet('异地城市往来')!;
    expect(partners.getRow(1).getCell(3).value).toBe('应收（元）');
    expect(partners.getRow(2).values).toEqual([undefined, '1234', 1, 2, 0, 2]);
    expect(workbook.getWorksheet('明细')!.rowCount).toBe(4);
  });

  it('exports one partner city only', async () => {
    settledDay();
    const file = await fixture.centre.settlementExport('2025-05-06', 'csv', 'zh', '1234');
    expect(file.fileName).toBe('settlement-2025-05-06-partner-1234.csv');
    const rows = parse(file.body.toString('utf8'), { bom: true, columns: true }) as Record<string, string>[];
    expect(rows.map((row) => row['卡号'])).toEqual(['12340000000000000003']);
  });

  it('refuses a day that is not settled', async () => {
    fixture = openClearingFixture('2025-05-06T19:00:00Z');
    await expect(fixture.centre.settlementExport('2025-05-06', 'csv', 'zh')).rejects.toThrow(/is not settled/);
  });

  it('refuses an invalid partner code', async () => {
    settledDay();
    await expect(fixture.centre.settlementExport('2025-05-06', 'csv', 'zh', 'XYZ')).rejects.toThrow(/invalid partner city code/);
  });

  it('defuses formula-like cells in CSV', async () => {
    fixture = openClearingFixture('2025-05-06T19:00:00Z');
    const record = fakeRecord({ sequence: 1, occurredAt: onDay6(1) });
    record.trip.vehicleId = '=HYPERLINK("x")';
    fixture.ingest('T1', 'b1', [record]);
    fixture.centre.settlement.settle('2025-05-06', 'alice');
    const file = await fixture.centre.settlementExport('2025-05-06', 'csv', 'zh');
    const rows = parse(file.body.toString('utf8'), { bom: true, columns: true }) as Record<string, string>[];
    expect(rows[0]?.['车辆']).toBe(`'=HYPERLINK("x")`);
  });
});
