import type { Language } from '@busfare/shared-protocol';
import { escapeHtml } from './html.js';
import { textFor } from './ops-layout.js';

/** Text the operator typed into a parameter form, shown again after a rejection. */
export interface ParameterFormValues {
  blacklistEntries?: string;
  blacklistChange?: 'add' | 'remove';
  fareTableBody?: string;
  effectiveFrom?: string;
}

export interface ParameterFormsView {
  /** False when no signing key is configured, so sets cannot be authored. */
  available: boolean;
  /** Problems of the last rejected form, listed above the forms. */
  problems?: readonly string[];
  values?: ParameterFormValues;
}

/** Renders the blacklist and fare-table forms of the parameters page, for operators and above. */
export function parameterFormsBody(language: Language, view: ParameterFormsView): string {
  const t = textFor(language);
  const problems =
    view.problems && view.problems.length > 0
      ? `<ul id="parameter-problems" class="severity-error">${view.problems.map((problem) => `<li>${escapeHtml(problem)}</li>`).join('')}</ul>`
      : '';
  if (!view.available) return `${problems}\n<p id="parameter-authoring-unavailable">${t('ops.params.unavailable')}</p>`;

  const values = view.values ?? {};
  const effectiveFrom = `<label>${t('ops.params.effectiveFrom')} <input name="effectiveFrom" type="datetime-local" step="1" value="${escapeHtml(values.effectiveFrom ?? '')}"></label>`;
  const option = (value: 'add' | 'remove', label: string) => `<option value="${value}"${values.blacklistChange === value ? ' selected' : ''}>${label}</option>`;

  return `${problems}
<form method="post" action="/ops/parameters/blacklist" class="stack" id="blacklist-form"><h2>${t('ops.params.blacklist.title')}</h2>
  <label>${t('ops.params.blacklist.entries')}<br><textarea name="entries" rows="6" cols="40" required aria-describedby="blacklist-hint">${escapeHtml(values.blacklistEntries ?? '')}</textarea></label>
  <p id="blacklist-hint" class="hint">${t('ops.params.blacklist.hint')}</p>
  <label>${t('ops.params.blacklist.change')} <select name="change">${option('add', t('ops.params.blacklist.add'))}${option('remove', t('ops.params.blacklist.remove'))}</select></label>
  ${effectiveFrom}
  <button type="submit">${t('ops.params.publish')}</button></form>
<form method="post" action="/ops/parameters/fare-table" class="stack" id="fare-table-form"><h2>${t('ops.params.fareTable.title')}</h2>
  <label>${t('ops.params.fareTable.body')}<br><textarea name="body" rows="16" cols="80" required>${escapeHtml(values.fareTableBody ?? '')}</textarea></label>
  ${effectiveFrom}
  <button type="submit">${t('ops.params.publish')}</button></form>`;
}
