import { TRANSACTION_TYPE, type Language, formatYuan, labelled, uiText } from '@busfare/shared-protocol';
import type { CardInspection } from './card-inspection.js';

/** Formats YYYYMMDDhhmmss as "YYYY-MM-DD hh:mm:ss"; other lengths are returned unchanged. */
function formatDateTime(digits: string): string {
  if (digits.length !== 14) return digits;
  return `${digits.slice(0, 4)}-${digits.slice(4, 6)}-${digits.slice(6, 8)} ${digits.slice(8, 10)}:${digits.slice(10, 12)}:${digits.slice(12, 14)}`;
}

function formatDate(digits: string): string {
  if (digits.length !== 8) return digits;
  return `${digits.slice(0, 4)}-${digits.slice(4, 6)}-${digits.slice(6, 8)}`;
}

function transactionName(type: number, language: Language): string {
  if (type === TRANSACTION_TYPE.load) return uiText('readCard.transaction.load', language);
  if (type === TRANSACTION_TYPE.purchase) return uiText('readCard.transaction.purchase', language);
  if (type === TRANSACTION_TYPE.compositePurchase) return uiText('readCard.transaction.compositePurchase', language);
  return uiText('readCard.transaction.other', language, { code: type.toString(16).padStart(2, '0').toUpperCase() });
}

/** Record types of EF1E: 03 boarding, 04 alighting, 06 single trip. */
function transitName(recordType: number, language: Language): string {
  if (recordType === 0x03) return uiText('readCard.transit.boarding', language);
  if (recordType === 0x04) return uiText('readCard.transit.alighting', language);
  if (recordType === 0x06) return uiText('readCard.transit.single', language);
  return uiText('readCard.transaction.other', language, { code: recordType.toString(16).padStart(2, '0').toUpperCase() });
}

/** Renders an inspection as text for a person, in the catalogue's language. */
export function formatCardInspection(inspection: CardInspection, language: Language): string {
  const t = (id: Parameters<typeof uiText>[0], params?: Record<string, string | number>) => uiText(id, language, params);
  const { ef15 } = inspection;
  const line = (id: Parameters<typeof uiText>[0], value: string | number) => labelled(language, t(id), value);
  const lines = [
    line('readCard.cardType', ef15.cardTypeCode),
    line('readCard.medium', t(inspection.medium === 'phone' ? 'readCard.medium.phone' : 'readCard.medium.card')),
    line('readCard.cardNumber', ef15.asn),
    line('readCard.issuer', ef15.issuerId),
    line('readCard.validity', t('readCard.validityRange', { start: formatDate(ef15.startDate), end: formatDate(ef15.expiryDate) })),
    line('readCard.balance', formatYuan(inspection.balanceFen)),
    '',
    line('readCard.purseLog', ''),
  ];
  if (inspection.purseLog.length === 0) lines.push(`  ${t('readCard.noRecords')}`);
  else {
    lines.push(`  ${[t('readCard.column.serial'), t('readCard.column.time'), t('readCard.column.type'), t('readCard.column.amount'), t('readCard.column.terminal')].join('\t')}`);
    for (const record of inspection.purseLog) {
      lines.push(`  ${[record.serial, formatDateTime(record.dateTime), transactionName(record.transactionType, language), formatYuan(record.amountFen), record.terminalNumber].join('\t')}`);
    }
  }
  lines.push('', line('readCard.transitRecords', ''));
  if (inspection.transitRecords.length === 0) lines.push(`  ${t('readCard.noRecords')}`);
  else {
    lines.push(`  ${[t('readCard.column.time'), t('readCard.column.type'), t('readCard.column.amount'), t('readCard.column.balanceAfter'), t('readCard.column.lineStation'), t('readCard.column.terminal')].join('\t')}`);
    for (const record of inspection.transitRecords) {
      lines.push(`  ${[formatDateTime(record.dateTime), transitName(record.recordType, language), formatYuan(record.amountFen), formatYuan(record.balanceAfterFen), record.lineStation, record.terminalNumber].join('\t')}`);
    }
  }
  return `${lines.join('\n')}\n`;
}
