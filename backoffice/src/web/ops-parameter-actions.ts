import { type Language, uiText } from '@busfare/shared-protocol';
import type { AuditRecorder } from '../clearing/audit.js';
import { type ParameterAuthoring, ParameterAuthoringError } from '../params/authoring.js';
import type { StoredPublication } from '../params/parameter-repository.js';
import { blacklistKeyOf } from '../params/blacklist-key.js';
import type { ParameterFormValues } from './ops-parameter-views.js';

export interface ParameterFormContext {
  /** Absent when no signing key is configured. */
  authoring: ParameterAuthoring | undefined;
  audit: AuditRecorder;
  /** Username of the signed-in operator, recorded in the audit log. */
  operator: string;
  /** Language of the problems returned. */
  language: Language;
  /** Converts the form's datetime-local value to an ISO 8601 instant at the centre's offset. */
  localToIso: (value: string) => string | undefined;
}

export type ParameterFormOutcome =
  | { ok: true; version: number }
  | { ok: false; problems: string[]; values: ParameterFormValues };

/**
 * Authors a blacklist change or a fare table from a console form post and records it in the audit
 * log. Returns the new version, or every problem found in the context's language, in which case
 * nothing is stored.
 */
export function parameterFormAction(kind: 'blacklist' | 'fare-table', form: Record<string, string | undefined>, context: ParameterFormContext): ParameterFormOutcome {
  const effectiveText = form.effectiveFrom?.trim() ?? '';
  const effectiveFrom = effectiveText === '' ? undefined : context.localToIso(effectiveText);
  const values: ParameterFormValues =
    kind === 'blacklist'
      ? { blacklistEntries: form.entries ?? '', blacklistChange: form.change === 'remove' ? 'remove' : 'add', effectiveFrom: effectiveText }
      : { fareTableBody: form.body ?? '', effectiveFrom: effectiveText };
  if (!context.authoring) return { ok: false, problems: [uiText('ops.input.noSigningKey', context.language)], values };

  const lead = (detail: string) => uiText(kind === 'blacklist' ? 'ops.input.blacklistInvalid' : 'ops.input.fareTableInvalid', context.language, { detail });
  try {
    const publication = kind === 'blacklist' ? changeBlacklist(context.authoring, form, effectiveFrom, context.language) : createFareTable(context.authoring, form.body ?? '', effectiveFrom, context.language);
    context.audit(context.operator, `parameters.${kind}`, `${kind}:v${publication.set.version}`, auditDetails(kind, form, publication));
    return { ok: true, version: publication.set.version };
  } catch (error) {
    if (error instanceof TranslatedProblems) return { ok: false, problems: error.problems, values };
    if (error instanceof ParameterAuthoringError) return { ok: false, problems: error.problemsIn(context.language).map(lead), values };
    throw error;
  }
}

/** Problems already written in the operator's language. */
class TranslatedProblems extends Error {
  constructor(readonly problems: string[]) {
    super(problems.join('; '));
  }
}

function changeBlacklist(authoring: ParameterAuthoring, form: Record<string, string | undefined>, effectiveFrom: string | undefined, language: Language): StoredPublication {
  const { keys, invalid } = blacklistEntriesOf(form.entries);
  if (invalid.length > 0) throw new TranslatedProblems(invalid.map((entry) => uiText('ops.input.blacklistEntry', language, entry)));
  if (form.change !== 'add' && form.change !== 'remove') throw new ParameterAuthoringError([`change: expected "add" or "remove", got ${JSON.stringify(form.change ?? '')}`]);
  return form.change === 'add' ? authoring.changeBlacklist(keys, [], effectiveFrom) : authoring.changeBlacklist([], keys, effectiveFrom);
}

function createFareTable(authoring: ParameterAuthoring, text: string, effectiveFrom: string | undefined, language: Language): StoredPublication {
  let body: unknown;
  try {
    body = JSON.parse(text);
  } catch (error) {
    throw new TranslatedProblems([uiText('ops.input.fareTableJson', language, { detail: (error as Error).message })]);
  }
  return authoring.create({ kind: 'fare-table', body, ...(effectiveFrom === undefined ? {} : { effectiveFrom }) });
}

/**
 * Reads one card number per line, skipping blank lines, and derives each card's blacklist key
 * (the right-most 8 bytes of its ASN). Lines that are not a card number come back with their
 * line number, counted from 1.
 */
function blacklistEntriesOf(text: string | undefined): { keys: string[]; invalid: { line: number; value: string }[] } {
  const keys: string[] = [];
  const invalid: { line: number; value: string }[] = [];
  (text ?? '').split(/\r?\n/).forEach((line, index) => {
    if (line.trim() === '') return;
    const key = blacklistKeyOf(line);
    if (key === undefined) invalid.push({ line: index + 1, value: line.trim() });
    else if (!keys.includes(key)) keys.push(key);
  });
  return { keys, invalid };
}

function auditDetails(kind: 'blacklist' | 'fare-table', form: Record<string, string | undefined>, publication: StoredPublication): Record<string, unknown> {
  const timing = { effectiveFrom: publication.set.effectiveFrom };
  if (kind === 'fare-table') return { ...timing, bodySha256: publication.set.bodySha256 };
  const { keys } = blacklistEntriesOf(form.entries);
  return { ...timing, [form.change === 'remove' ? 'removed' : 'added']: keys };
}
