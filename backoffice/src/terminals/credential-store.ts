import { randomBytes, scrypt, timingSafeEqual } from 'node:crypto';
import Database from 'better-sqlite3';
import { terminalIdSchema } from '@busfare/shared-protocol';

/** scrypt cost parameters (N = 2^14, r = 8, p = 1: about 16 MiB and tens of ms per check). */
const SCRYPT = { N: 16_384, r: 8, p: 1, maxmem: 64 * 1024 * 1024 } as const;
const HASH_BYTES = 32;
const SALT_BYTES = 16;
const SECRET_BYTES = 24;

const SCHEMA_SQL = `
CREATE TABLE IF NOT EXISTS terminal_credentials (
  terminal_id TEXT PRIMARY KEY,
  salt BLOB NOT NULL,
  hash BLOB NOT NULL,
  created_at TEXT NOT NULL
);`;

/** A registered terminal, without its secret. */
export interface TerminalCredentialRow {
  terminalId: string;
  createdAt: string;
}

export class CredentialError extends Error {
  constructor(
    readonly code: 'invalid-terminal-id' | 'already-registered' | 'not-found',
    message: string,
  ) {
    super(message);
    this.name = 'CredentialError';
  }
}

/**
 * Per-terminal MQTT secrets in the clearing database. Only a salted scrypt hash is stored; the
 * secret itself is returned once, by add(), for the installer to put in the terminal's config.
 */
export class TerminalCredentialStore {
  private readonly db: Database.Database;
  private readonly statements;

  /**
   * Opens the credentials table of the clearing database at `path`. With `access` "create" (the
   * default) a missing file or table is created. "existing" throws when the file is missing.
   * "read-only" also opens the file read-only, so only list() and verify() work, and a database
   * without the table lists no terminals.
   */
  constructor(path: string, options: { access?: 'create' | 'existing' | 'read-only' } = {}) {
    const access = options.access ?? 'create';
    this.db = new Database(path, { readonly: access === 'read-only', fileMustExist: access !== 'create' });
    this.db.pragma('busy_timeout = 5000');
    if (access !== 'read-only') {
      this.db.pragma('journal_mode = WAL');
      this.db.pragma('synchronous = FULL');
      this.db.exec(SCHEMA_SQL);
    } else if (!this.db.prepare("SELECT 1 FROM sqlite_master WHERE type = 'table' AND name = 'terminal_credentials'").get()) {
      // An empty temporary table replaces the missing one, so the statements below still compile.
      this.db.exec(SCHEMA_SQL.replace('CREATE TABLE', 'CREATE TEMP TABLE'));
    }
    this.statements = {
      insert: this.db.prepare<[string, Buffer, Buffer, string]>('INSERT INTO terminal_credentials (terminal_id, salt, hash, created_at) VALUES (?, ?, ?, ?)'),
      select: this.db.prepare<[string], { salt: Buffer; hash: Buffer }>('SELECT salt, hash FROM terminal_credentials WHERE terminal_id = ?'),
      remove: this.db.prepare<[string]>('DELETE FROM terminal_credentials WHERE terminal_id = ?'),
      list: this.db.prepare<[], TerminalCredentialRow>('SELECT terminal_id AS terminalId, created_at AS createdAt FROM terminal_credentials ORDER BY terminal_id'),
    };
  }

  /**
   * Registers a terminal and returns its new secret (base64url). Throws CredentialError
   * `already-registered` unless `replace` is set, which issues a new secret and voids the old one.
   */
  async add(terminalId: string, options: { replace?: boolean; now?: Date } = {}): Promise<string> {
    if (!terminalIdSchema.safeParse(terminalId).success) {
      throw new CredentialError('invalid-terminal-id', `invalid terminal id "${terminalId}": use 1-32 letters, digits, "_" or "-"`);
    }
    if (!options.replace && this.statements.select.get(terminalId)) {
      throw new CredentialError('already-registered', `terminal ${terminalId} is already registered; pass --replace to issue a new secret`);
    }
    const secret = randomBytes(SECRET_BYTES).toString('base64url');
    const salt = randomBytes(SALT_BYTES);
    const hash = await scryptHash(secret, salt);
    this.db.transaction(() => {
      this.statements.remove.run(terminalId);
      this.statements.insert.run(terminalId, salt, hash, (options.now ?? new Date()).toISOString());
    })();
    return secret;
  }

  /** Checks the secret against the registered hash; resolves false for unknown terminals. */
  async verify(terminalId: string, secret: string): Promise<boolean> {
    const row = this.statements.select.get(terminalId);
    if (!row) return false;
    const hash = await scryptHash(secret, row.salt);
    return hash.length === row.hash.length && timingSafeEqual(hash, row.hash);
  }

  /**
   * Returns the salt of the terminal's current secret, or undefined when the terminal is not
   * registered. add() draws a new salt for every secret, so a different value means the secret
   * was replaced. It reads one row and hashes nothing, so the broker can call it per message.
   */
  secretSalt(terminalId: string): Buffer | undefined {
    return this.statements.select.get(terminalId)?.salt;
  }

  remove(terminalId: string): void {
    if (this.statements.remove.run(terminalId).changes === 0) throw new CredentialError('not-found', `terminal ${terminalId} is not registered`);
  }

  list(): TerminalCredentialRow[] {
    return this.statements.list.all();
  }

  close(): void {
    if (this.db.open) this.db.close();
  }
}

function scryptHash(secret: string, salt: Buffer): Promise<Buffer> {
  return new Promise((resolve, reject) => {
    scrypt(secret, salt, HASH_BYTES, SCRYPT, (error, key) => (error ? reject(error) : resolve(key)));
  });
}
