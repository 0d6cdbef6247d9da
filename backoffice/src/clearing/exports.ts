import { type Language, type UiTextId, formatYuan, uiText } from '@busfare/shared-protocol';
import ExcelJS from 'exceljs';
import type { SettlementItem } from '../store/settlement-store.js';
import type { SettlementLine, SettlementReport } from './settlement-report.js';

/** One column of an export: its catalogue header and how a row fills it. */
interface Column<Row> {
  header: UiTextId;
  value: (row: Row) => string | number;
  /** Money in yuan with two decimals, so spreadsheets sum it as a number. */
  money?: boolean;
}

const yuan = (fen: number) => Number(formatYuan(fen));

const ITEM_COLUMNS: Column<SettlementItem & { settlementDay: string }>[] = [
  { header: 'export.settlementDay', value: (row) => row.settlementDay },
  { header: 'export.businessDay', value: (row) => row.businessDay },
  { header: 'export.late', value: (row) => (row.businessDay < row.settlementDay ? 'Y' : '') },
  { header: 'export.source', value: (row) => row.source },
  { header: 'console.terminal', value: (row) => row.terminalId },
  { header: 'console.sequence', value: (row) => row.sequence },
  { header: 'console.time', value: (row) => row.occurredAt },
  { header: 'console.card', value: (row) => row.asn },
  { header: 'export.issuer', value: (row) => row.issuerId },
  { header: 'console.cardType', value: (row) => row.cardType },
  { header: 'console.route', value: (row) => row.route ?? '' },
  { header: 'console.vehicle', value: (row) => row.vehicleId },
  { header: 'export.driver', value: (row) => row.driverId ?? '' },
  { header: 'export.listFare', value: (row) => yuan(row.listFareFen), money: true },
  { header: 'export.amount', value: (row) => yuan(row.amountFen), money: true },
  { header: 'export.discount', value: (row) => yuan(row.listFareFen - row.amountFen), money: true },
  { header: 'console.verification', value: (row) => row.verification },
];

const LINE_COLUMNS = (keyHeader: UiTextId): Column<SettlementLine>[] => [
  { header: keyHeader, value: (row) => row.key },
  { header: 'console.count', value: (row) => row.count },
  { header: 'export.listFare', value: (row) => yuan(row.listFareFen), money: true },
  { header: 'export.amount', value: (row) => yuan(row.amountFen), money: true },
  { header: 'export.discount', value: (row) => yuan(row.discountFen), money: true },
];

const DIMENSIONS: { sheet: UiTextId; key: UiTextId; lines: (report: SettlementReport) => SettlementLine[] }[] = [
  { sheet: 'export.sheet.issuerGroup', key: 'export.issuerGroup', lines: (report) => report.byIssuerGroup },
  { sheet: 'export.sheet.issuer', key: 'export.issuer', lines: (report) => report.byIssuer },
  { sheet: 'export.sheet.operator', key: 'export.operator', lines: (report) => report.byOperator },
  { sheet: 'export.sheet.route', key: 'console.route', lines: (report) => report.byRoute },
  { sheet: 'export.sheet.vehicle', key: 'console.vehicle', lines: (report) => report.byVehicle },
  { sheet: 'export.sheet.terminal', key: 'console.terminal', lines: (report) => report.byTerminal },
  { sheet: 'export.sheet.shift', key: 'export.shift', lines: (report) => report.byShift },
  { sheet: 'export.sheet.cardType', key: 'console.cardType', lines: (report) => report.byCardType },
  { sheet: 'export.sheet.adjustments', key: 'export.adjustmentKind', lines: (report) => report.adjustments },
];

/**
 * CSV of one settled day's items, with headers in the chosen language. It starts with a UTF-8
 * byte order mark because Excel opens a CSV without one in the system's legacy code page.
 */
export function settlementItemsCsv(day: string, items: readonly SettlementItem[], language: Language): string {
  const rows = items.map((item) => ({ ...item, settlementDay: day }));
  return toCsv(ITEM_COLUMNS, rows, language);
}

/** Excel workbook of one settled day: totals, partner balances, each grouping, and the items. */
export async function settlementWorkbook(report: SettlementReport, items: readonly SettlementItem[], language: Language): Promise<Buffer> {
  const t = (id: UiTextId) => uiText(id, language);
  const workbook = new ExcelJS.Workbook();
  workbook.creator = 'busfare';

  const summary = workbook.addWorksheet(t('export.sheet.summary'));
  summary.addRow([t('export.settlementDay'), report.businessDay]);
  summary.addRow([t('export.state'), report.state]);
  summary.addRow([t('export.settledAt'), report.settledAt ?? '']);
  summary.addRow([t('export.settledBy'), report.settledBy ?? '']);
  summary.addRow([t('console.count'), report.totals.count]);
  summary.addRow([t('export.listFare'), yuan(report.totals.listFareFen)]);
  summary.addRow([t('export.amount'), yuan(report.totals.amountFen)]);
  summary.addRow([t('export.discount'), yuan(report.totals.discountFen)]);
  summary.addRow([t('export.lateCount'), report.late.count]);
  summary.addRow([t('export.lateAmount'), yuan(report.late.amountFen)]);
  summary.addRow([t('export.awaitingIssuerCount'), report.awaitingIssuer.count]);
  summary.addRow([t('export.awaitingIssuerAmount'), yuan(report.awaitingIssuer.amountFen)]);
  summary.getColumn(1).width = 24;
  summary.getColumn(2).width = 28;

  addSheet(workbook, t('export.sheet.partners'), language, [
    { header: 'export.partnerCity', value: (row) => row.partnerCity },
    { header: 'console.count', value: (row) => row.count },
    { header: 'export.receivable', value: (row) => yuan(row.receivableFen), money: true },
    { header: 'export.payable', value: (row) => yuan(row.payableFen), money: true },
    { header: 'export.net', value: (row) => yuan(row.netFen), money: true },
  ], report.partners);
  for (const dimension of DIMENSIONS) addSheet(workbook, t(dimension.sheet), language, LINE_COLUMNS(dimension.key), dimension.lines(report));
  addSheet(workbook, t('export.sheet.items'), language, ITEM_COLUMNS, items.map((item) => ({ ...item, settlementDay: report.businessDay })));

  return Buffer.from(await workbook.xlsx.writeBuffer());
}

/** CSV of arbitrary rows with catalogue headers, for partner files and queues. */
export function rowsCsv<Row>(columns: readonly Column<Row>[], rows: readonly Row[], language: Language): string {
  return toCsv(columns, rows, language);
}

/** Excel workbook with one sheet of rows. */
export async function rowsWorkbook<Row>(sheetName: string, columns: readonly Column<Row>[], rows: readonly Row[], language: Language): Promise<Buffer> {
  const workbook = new ExcelJS.Workbook();
  workbook.creator = 'busfare';
  addSheet(workbook, sheetName, language, columns, rows);
  return Buffer.from(await workbook.xlsx.writeBuffer());
}

export type { Column };

function addSheet<Row>(workbook: ExcelJS.Workbook, name: string, language: Language, columns: readonly Column<Row>[], rows: readonly Row[]): void {
  const sheet = workbook.addWorksheet(name);
  sheet.columns = columns.map((column) => ({ header: uiText(column.header, language), width: 16, ...(column.money ? { style: { numFmt: '0.00' } } : {}) }));
  sheet.getRow(1).font = { bold: true };
  for (const row of rows) sheet.addRow(columns.map((column) => column.value(row)));
}

function toCsv<Row>(columns: readonly Column<Row>[], rows: readonly Row[], language: Language): string {
  const lines = [columns.map((column) => csvField(uiText(column.header, language))).join(',')];
  for (const row of rows) {
    lines.push(columns.map((column) => {
      const value = column.value(row);
      return csvField(typeof value === 'number' && column.money ? value.toFixed(2) : String(value));
    }).join(','));
  }
  return `\uFEFF${lines.join('\r\n')}\r\n`;
}

/** Quotes a CSV field when it holds a separator, quote or line break (RFC 4180), and defuses spreadsheet formulas. */
function csvField(text: string): string {
  const safe = /^[=+\-@]/.test(text) && !/^-?\d+(\.\d+)?$/.test(text) ? `'${text}` : text;
  return /[",\r\n]/.test(safe) ? `"${safe.replace(/"/g, '""')}"` : safe;
}
