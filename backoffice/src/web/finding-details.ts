import { type Language, type UiTextId, UI_TEXT, formatYuan, uiText } from '@busfare/shared-protocol';
import type { Finding } from '../clearing/reconciliation.js';
import { escapeHtml } from './html.js';

/** Checks whether a shift counter is in fen, so that its terminal and records values are shown as yuan. */
function isAmountField(field: string | number | undefined): boolean {
  return typeof field === 'string' && (field === 'amountFen' || field.endsWith('.amountFen'));
}

/** Names a shift counter ("accepted", "amountFen", "byCardType.student.amountFen") with catalogue labels. */
function shiftFieldLabel(field: string, language: Language): string {
  const byCardType = /^byCardType\.(.+)\.amountFen$/.exec(field);
  if (byCardType) {
    const typeId = `cardType.${byCardType[1]}`;
    const cardType = typeId in UI_TEXT ? uiText(typeId as UiTextId, language) : byCardType[1]!;
    return uiText('reconcile.field.cardTypeAmount', language, { cardType });
  }
  const id = `reconcile.field.${field}`;
  return id in UI_TEXT ? uiText(id as UiTextId, language) : field;
}

function detailValue(key: string, value: string | number, details: Finding['details'], language: Language): string {
  if (key === 'amountFen' && typeof value === 'number') return formatYuan(value);
  if ((key === 'terminal' || key === 'records') && typeof value === 'number' && isAmountField(details.field)) return formatYuan(value);
  if (key === 'field') return shiftFieldLabel(String(value), language);
  if (key === 'category') {
    const id = `category.${value}`;
    if (id in UI_TEXT) return uiText(id as UiTextId, language);
  }
  return String(value);
}

/**
 * Renders a reconciliation finding's details as "label value" pieces in the language, escaped for
 * HTML: amounts in yuan, rejection categories and shift counters by their catalogue names. A key
 * without a catalogue label is shown as it is stored.
 */
export function findingDetailParts(details: Finding['details'], language: Language): string[] {
  return Object.entries(details).map(([key, value]) => {
    const labelId = `reconcile.detail.${key}`;
    const label = labelId in UI_TEXT ? uiText(labelId as UiTextId, language) : key;
    return escapeHtml(`${label} ${detailValue(key, value, details, language)}`);
  });
}
