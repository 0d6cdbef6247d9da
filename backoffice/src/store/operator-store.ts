import type Database from 'better-sqlite3';

export type OperatorRole = 'viewer' | 'operator' | 'administrator';

export interface OperatorAccountRow {
  username: string;
  displayName: string;
  role: OperatorRole;
  /** scrypt hash in the form `scrypt$N$r$p$saltHex$hashHex`. */
  passwordHash: string;
  disabled: boolean;
  createdAt: string;
}

export interface OperatorSessionRow {
  tokenSha256: string;
  username: string;
  createdAt: string;
  expiresAt: string;
}

export interface AuditEntry {
  id: number;
  at: string;
  operator: string;
  action: string;
  target: string;
  details: Record<string, unknown>;
}

/** Operator accounts, their login sessions and the audit log of every change an operator makes. */
export class SqliteOperatorStore {
  constructor(
    private readonly db: Database.Database,
    private readonly now: () => Date = () => new Date(),
  ) {}

  /** Inserts an account; returns false when the username is taken. */
  insertAccount(account: Omit<OperatorAccountRow, 'createdAt' | 'disabled'>): boolean {
    return (
      this.db
        .prepare('INSERT OR IGNORE INTO operator_accounts (username, display_name, role, password_hash, disabled, created_at) VALUES (?, ?, ?, ?, 0, ?)')
        .run(account.username, account.displayName, account.role, account.passwordHash, this.now().toISOString()).changes === 1
    );
  }

  findAccount(username: string): OperatorAccountRow | undefined {
    const row = this.db
      .prepare<[string], Omit<OperatorAccountRow, 'disabled'> & { disabled: number }>(`
        SELECT username, display_name AS displayName, role, password_hash AS passwordHash, disabled, created_at AS createdAt
        FROM operator_accounts WHERE username = ?`)
      .get(username);
    return row === undefined ? undefined : { ...row, disabled: row.disabled === 1 };
  }

  listAccounts(): Omit<OperatorAccountRow, 'passwordHash'>[] {
    return this.db
      .prepare<[], Omit<OperatorAccountRow, 'passwordHash' | 'disabled'> & { disabled: number }>(`
        SELECT username, display_name AS displayName, role, disabled, created_at AS createdAt FROM operator_accounts ORDER BY username`)
      .all()
      .map((row) => ({ ...row, disabled: row.disabled === 1 }));
  }

  countAccounts(): number {
    return this.db.prepare<[], { count: number }>('SELECT COUNT(*) AS count FROM operator_accounts').get()?.count ?? 0;
  }

  updateAccount(username: string, changes: { role?: OperatorRole; disabled?: boolean; passwordHash?: string }): boolean {
    const current = this.findAccount(username);
    if (!current) return false;
    this.db
      .prepare('UPDATE operator_accounts SET role = ?, disabled = ?, password_hash = ? WHERE username = ?')
      .run(changes.role ?? current.role, (changes.disabled ?? current.disabled) ? 1 : 0, changes.passwordHash ?? current.passwordHash, username);
    return true;
  }

  insertSession(session: OperatorSessionRow): void {
    this.db
      .prepare('INSERT INTO operator_sessions (token_sha256, username, created_at, expires_at) VALUES (?, ?, ?, ?)')
      .run(session.tokenSha256, session.username, session.createdAt, session.expiresAt);
  }

  findSession(tokenSha256: string): OperatorSessionRow | undefined {
    return this.db
      .prepare<[string], OperatorSessionRow>(`
        SELECT token_sha256 AS tokenSha256, username, created_at AS createdAt, expires_at AS expiresAt FROM operator_sessions WHERE token_sha256 = ?`)
      .get(tokenSha256);
  }

  deleteSession(tokenSha256: string): void {
    this.db.prepare('DELETE FROM operator_sessions WHERE token_sha256 = ?').run(tokenSha256);
  }

  /** Deletes every session of an account (after a password or role change), and expired ones. */
  deleteSessionsOf(username: string): void {
    this.db.prepare('DELETE FROM operator_sessions WHERE username = ? OR expires_at < ?').run(username, this.now().toISOString());
  }

  appendAudit(entry: Omit<AuditEntry, 'id' | 'at'>): AuditEntry {
    const at = this.now().toISOString();
    const result = this.db
      .prepare('INSERT INTO audit_log (at, operator, action, target, details_json) VALUES (?, ?, ?, ?, ?)')
      .run(at, entry.operator, entry.action, entry.target, JSON.stringify(entry.details));
    return { id: Number(result.lastInsertRowid), at, ...entry };
  }

  listAudit(limit: number, filter: { operator?: string; action?: string } = {}): AuditEntry[] {
    return this.db
      .prepare<[string | null, string | null, string | null, string | null, number], Omit<AuditEntry, 'details'> & { detailsJson: string }>(`
        SELECT id, at, operator, action, target, details_json AS detailsJson FROM audit_log
        WHERE (? IS NULL OR operator = ?) AND (? IS NULL OR action = ?) ORDER BY id DESC LIMIT ?`)
      .all(filter.operator ?? null, filter.operator ?? null, filter.action ?? null, filter.action ?? null, limit)
      .map(({ detailsJson, ...row }) => ({ ...row, details: JSON.parse(detailsJson) as Record<string, unknown> }));
  }
}
