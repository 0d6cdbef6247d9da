import type { AuditRecorder } from '../clearing/audit.js';
import { type ParameterAuthoring, ParameterAuthoringError } from '../params/authoring.js';
import type { StoredPublication } from '../params/parameter-repository.js';
import type { ParameterFormValues } from './ops-parameter-views.js';

export interface ParameterFormContext {
  /** Absent when no signing key is configured. */
  authoring: ParameterAuthoring | undefined;
  audit: AuditRecorder;
  /** Username of the signed-in operator, recorded in the audit log. */
  operator: string;
  /** Converts the form's datetime-local value to an ISO 8601 instant at the centre's offset. */
  localToIso: (value: string) => string | undefined;
}

export type ParameterFormOutcome =
  | { ok: true; version: number }
  | { ok: false; problems: string[]; values: ParameterFormValues };

const NO_SIGNING_KEY = 'no parameter signing key is configured; create one with "busfare-backoffice params keygen" and set parameterSigningKey in the config';

/**
 * Authors a blacklist change or a fare table from a console form post and records it in the audit
 * log. Returns the new version, or every problem found, in which case nothing is stored.
 */
export function parameterFormAction(kind: 'blacklist' | 'fare-table', form: Record<string, string | undefined>, context: ParameterFormContext): ParameterFormOutcome {
  const effectiveText = form.effectiveFrom?.trim() ?? '';
  const effectiveFrom = effectiveText === '' ? undefined : context.localToIso(effectiveText);
  const values: ParameterFormValues =
    kind === 'blacklist'
      ? { blacklistEntries: form.entries ?? '', blacklistChange: form.change === 'remove' ? 'remove' : 'add', effectiveFrom: effectiveText }
      : { fareTableBody: form.body ?? '', effectiveFrom: effectiveText };
  if (!context.authoring) return { ok: false, problems: [NO_SIGNING_KEY], values };

  try {
    const publication = kind === 'blacklist' ? changeBlacklist(context.authoring, form, effectiveFrom) : createFareTable(context.authoring, form.body ?? '', effectiveFrom);
    context.audit(context.operator, `parameters.${kind}`, `${kind}:v${publication.set.version}`, auditDetails(kind, form, publication));
    return { ok: true, version: publication.set.version };
  } catch (error) {
    if (error instanceof ParameterAuthoringError) return { ok: false, problems: error.problems, values };
    throw error;
  }
}

function changeBlacklist(authoring: ParameterAuthoring, form: Record<string, string | undefined>, effectiveFrom: string | undefined): StoredPublication {
  const entries = blacklistEntriesOf(form.entries);
  if (form.change !== 'add' && form.change !== 'remove') throw new ParameterAuthoringError([`change: expected "add" or "remove", got ${JSON.stringify(form.change ?? '')}`]);
  return form.change === 'add' ? authoring.changeBlacklist(entries, [], effectiveFrom) : authoring.changeBlacklist([], entries, effectiveFrom);
}

function createFareTable(authoring: ParameterAuthoring, text: string, effectiveFrom: string | undefined): StoredPublication {
  let body: unknown;
  try {
    body = JSON.parse(text);
  } catch (error) {
    throw new ParameterAuthoringError([`body: invalid JSON: ${(error as Error).message}`]);
  }
  return authoring.create({ kind: 'fare-table', body, ...(effectiveFrom === undefined ? {} : { effectiveFrom }) });
}

/** One ASN per line; blank lines are skipped and hex digits are upper-cased, as the blacklist stores them. */
function blacklistEntriesOf(text: string | undefined): string[] {
  return (text ?? '')
    .split(/\r?\n/)
    .map((line) => line.trim().toUpperCase())
    .filter((line) => line !== '');
}

function auditDetails(kind: 'blacklist' | 'fare-table', form: Record<string, string | undefined>, publication: StoredPublication): Record<string, unknown> {
  const timing = { effectiveFrom: publication.set.effectiveFrom };
  if (kind === 'fare-table') return { ...timing, bodySha256: publication.set.bodySha256 };
  const entries = blacklistEntriesOf(form.entries);
  return { ...timing, [form.change === 'remove' ? 'removed' : 'added']: entries };
}
