import { createHash, randomBytes } from 'node:crypto';
import type { AuditRecorder } from '../clearing/audit.js';
import { ClearingError } from '../clearing/clearing-error.js';
import type { OperatorAccountRow, OperatorRole, SqliteOperatorStore } from '../store/operator-store.js';
import { hashPassword, verifyPassword } from './passwords.js';

/** Roles in rising order of rights: a viewer reads, an operator acts on queues and days, an administrator also manages accounts and approves money. */
export const OPERATOR_ROLES: readonly OperatorRole[] = ['viewer', 'operator', 'administrator'];

export const USERNAME_PATTERN = /^[a-z][a-z0-9_.-]{2,31}$/;
export const MIN_PASSWORD_LENGTH = 10;

/** The operator behind a request, as the session store returned it. */
export interface OperatorIdentity {
  username: string;
  displayName: string;
  role: OperatorRole;
}

export interface OperatorAccountsOptions {
  store: SqliteOperatorStore;
  audit: AuditRecorder;
  /** Lifetime of a login session, in ms. */
  sessionTtlMs: number;
  now?: () => Date;
}

/** Whether a role holds at least the rights of another. */
export function hasRole(role: OperatorRole, required: OperatorRole): boolean {
  return OPERATOR_ROLES.indexOf(role) >= OPERATOR_ROLES.indexOf(required);
}

const tokenDigest = (token: string) => createHash('sha256').update(token).digest('hex');

/**
 * Operator accounts and login sessions. Passwords are kept as scrypt hashes; a session token is
 * 32 random bytes that only the browser's cookie holds, and the store keeps its SHA-256.
 */
export class OperatorAccounts {
  private readonly now: () => Date;

  constructor(private readonly options: OperatorAccountsOptions) {
    this.now = options.now ?? (() => new Date());
  }

  async create(input: { username: string; displayName: string; role: OperatorRole; password: string }, actor: string): Promise<OperatorIdentity> {
    if (!USERNAME_PATTERN.test(input.username)) throw new ClearingError('invalid', `invalid username "${input.username}": use 3-32 lower-case letters, digits, ".", "_" or "-", starting with a letter`);
    if (input.password.length < MIN_PASSWORD_LENGTH) throw new ClearingError('invalid', `password too short: use at least ${MIN_PASSWORD_LENGTH} characters`);
    if (!OPERATOR_ROLES.includes(input.role)) throw new ClearingError('invalid', `invalid role "${input.role}"`);
    const passwordHash = await hashPassword(input.password);
    if (!this.options.store.insertAccount({ username: input.username, displayName: input.displayName, role: input.role, passwordHash })) {
      throw new ClearingError('conflict', `username "${input.username}" is taken`);
    }
    this.options.audit(actor, 'operator.create', input.username, { role: input.role, displayName: input.displayName });
    return { username: input.username, displayName: input.displayName, role: input.role };
  }

  /** Checks the password and opens a session; returns the token for the cookie, or undefined. */
  async login(username: string, password: string): Promise<{ token: string; identity: OperatorIdentity; expiresAt: Date } | undefined> {
    const account = this.options.store.findAccount(username);
    // Hash against a fixed value for unknown names too, so timing does not reveal which names exist.
    const valid = await verifyPassword(password, account?.passwordHash ?? DUMMY_HASH);
    if (!account || !valid || account.disabled) {
      this.options.audit(username, 'operator.login-failed', username, {});
      return undefined;
    }
    const token = randomBytes(32).toString('base64url');
    const createdAt = this.now();
    const expiresAt = new Date(createdAt.getTime() + this.options.sessionTtlMs);
    this.options.store.insertSession({ tokenSha256: tokenDigest(token), username, createdAt: createdAt.toISOString(), expiresAt: expiresAt.toISOString() });
    this.options.audit(username, 'operator.login', username, {});
    return { token, identity: identityOf(account), expiresAt };
  }

  /** Returns the operator of a live session, or undefined for an unknown, expired or disabled one. */
  authenticate(token: string | undefined): OperatorIdentity | undefined {
    if (!token) return undefined;
    const digest = tokenDigest(token);
    const session = this.options.store.findSession(digest);
    if (!session) return undefined;
    if (Date.parse(session.expiresAt) <= this.now().getTime()) {
      this.options.store.deleteSession(digest);
      return undefined;
    }
    const account = this.options.store.findAccount(session.username);
    if (!account || account.disabled) return undefined;
    return identityOf(account);
  }

  logout(token: string | undefined, username: string): void {
    if (!token) return;
    this.options.store.deleteSession(tokenDigest(token));
    this.options.audit(username, 'operator.logout', username, {});
  }

  async update(username: string, changes: { role?: OperatorRole; disabled?: boolean; password?: string }, actor: string): Promise<void> {
    if (changes.role !== undefined && !OPERATOR_ROLES.includes(changes.role)) throw new ClearingError('invalid', `invalid role "${changes.role}"`);
    if (changes.password !== undefined && changes.password.length < MIN_PASSWORD_LENGTH) throw new ClearingError('invalid', `password too short: use at least ${MIN_PASSWORD_LENGTH} characters`);
    const passwordHash = changes.password === undefined ? undefined : await hashPassword(changes.password);
    if (!this.options.store.updateAccount(username, { role: changes.role, disabled: changes.disabled, passwordHash })) throw new ClearingError('not-found', `operator "${username}" not found`);
    this.options.store.deleteSessionsOf(username);
    this.options.audit(actor, 'operator.update', username, { role: changes.role ?? null, disabled: changes.disabled ?? null, passwordChanged: changes.password !== undefined });
  }

  list(): Omit<OperatorAccountRow, 'passwordHash'>[] {
    return this.options.store.listAccounts();
  }

  count(): number {
    return this.options.store.countAccounts();
  }
}

function identityOf(account: OperatorAccountRow): OperatorIdentity {
  return { username: account.username, displayName: account.displayName, role: account.role };
}

/** A valid scrypt hash of a random password, used to spend the same time on unknown usernames. */
const DUMMY_HASH = `scrypt$32768$8$1$${'00'.repeat(16)}$${'00'.repeat(32)}`;
