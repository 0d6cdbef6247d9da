import Database from 'better-sqlite3';
import { terminalStatusSchema } from '@busfare/shared-protocol';
import type { ParameterRepository } from './parameter-repository.js';

/** One parameter kind on one terminal against what the back office has published. */
export interface KindLag {
  active: number | null;
  pending: number | null;
  /** The newest published version already effective: the terminal should have it active. */
  expectedActive: number | null;
  /** The newest published version: the terminal should hold it, active or pending. */
  newest: number | null;
  /** Null when the last status carries no versions (an offline last will), so it is unknown. */
  behind: boolean | null;
}

export interface TerminalParameterStatus {
  terminalId: string;
  state: string;
  /** Time of the terminal's last status message. */
  at: string;
  /** True when behind on any kind; null when the last status carries no versions. */
  behind: boolean | null;
  kinds: Record<string, KindLag>;
}

interface PublishedVersions {
  newest: number;
  expectedActive: number | null;
}

/**
 * Compares each terminal's reported active and pending versions (the `terminal_status` table
 * that ingest keeps) with the published sets. A terminal whose last status carries no versions
 * (the offline last will) is reported with `behind: null`. A terminal is behind on a kind when its active
 * version is below the newest effective one, or it has neither the newest version nor a newer one.
 */
export function terminalParameterStatus(databasePath: string, repository: ParameterRepository, now: Date): TerminalParameterStatus[] {
  const published = publishedVersions(repository, now);
  const rows = readStatusRows(databasePath);
  return rows.map((row) => {
    const parsed = terminalStatusSchema.safeParse(JSON.parse(row.status_json));
    const parameters = parsed.success ? parsed.data.parameters : undefined;
    const kinds: Record<string, KindLag> = {};
    for (const [kind, versions] of published) {
      const active = parameters?.active[kind] ?? null;
      const pending = parameters?.pending[kind] ?? null;
      const held = Math.max(active ?? 0, pending ?? 0);
      const behind = parameters === undefined ? null : (versions.expectedActive !== null && (active ?? 0) < versions.expectedActive) || held < versions.newest;
      kinds[kind] = { active, pending, expectedActive: versions.expectedActive, newest: versions.newest, behind };
    }
    const lags = Object.values(kinds);
    const behind = parameters === undefined && lags.length > 0 ? null : lags.some((lag) => lag.behind === true);
    return { terminalId: row.terminal_id, state: row.state, at: row.at, behind, kinds };
  });
}

function publishedVersions(repository: ParameterRepository, now: Date): Map<string, PublishedVersions> {
  const versions = new Map<string, PublishedVersions>();
  for (const { kind, version, effectiveFrom } of repository.published()) {
    const entry = versions.get(kind) ?? { newest: 0, expectedActive: null };
    entry.newest = Math.max(entry.newest, version);
    if (Date.parse(effectiveFrom) <= now.getTime()) entry.expectedActive = Math.max(entry.expectedActive ?? 0, version);
    versions.set(kind, entry);
  }
  return versions;
}

function readStatusRows(databasePath: string): { terminal_id: string; state: string; at: string; status_json: string }[] {
  const db = new Database(databasePath, { readonly: true, fileMustExist: true });
  try {
    const table = db.prepare<[], { name: string }>("SELECT name FROM sqlite_master WHERE type = 'table' AND name = 'terminal_status'").get();
    if (!table) return [];
    return db.prepare<[], { terminal_id: string; state: string; at: string; status_json: string }>('SELECT terminal_id, state, at, status_json FROM terminal_status ORDER BY terminal_id').all();
  } finally {
    db.close();
  }
}
