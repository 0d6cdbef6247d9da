import { afterEach, describe, expect, it } from 'vitest';
import { type ClearingFixture, openClearingFixture } from '../testing/clearing-fixture.js';
import { hashPassword, verifyPassword } from './passwords.js';
import { hasRole } from './operator-accounts.js';

describe('passwords', () => {
  it('verifies only the right password', async () => {
    const hash = await hashPassword('密码 with spaces 123');
    expect(hash).toMatch(/^scrypt\$32768\$8\$1\$[0-9a-f]{32}\$[0-9a-f]{64}$/);
    expect(await verifyPassword('密码 with spaces 123', hash)).toBe(true);
    expect(await verifyPassword('密码 with spaces 124', hash)).toBe(false);
  });

  it('rejects a malformed hash', async () => {
    expect(await verifyPassword('x', 'plain-text')).toBe(false);
    expect(await verifyPassword('x', 'scrypt$32768$8$1$$')).toBe(false);
  });
});

describe('OperatorAccounts', () => {
  let fixture: ClearingFixture;
  afterEach(() => fixture?.close());

  it('orders roles by rights', () => {
    expect(hasRole('administrator', 'operator')).toBe(true);
    expect(hasRole('operator', 'administrator')).toBe(false);
    expect(hasRole('viewer', 'viewer')).toBe(true);
  });

  it('rejects invalid usernames, short passwords and unknown roles', async () => {
    fixture = openClearingFixture();
    const accounts = fixture.centre.accounts;
    await expect(accounts.create({ username: 'Bad Name', displayName: 'x', role: 'viewer', password: 'long enough pw' }, 'admin')).rejects.toThrow(/invalid username/);
    await expect(accounts.create({ username: 'good', displayName: 'x', role: 'viewer', password: 'short' }, 'admin')).rejects.toThrow(/too short/);
    await expect(accounts.create({ username: 'good', displayName: 'x', role: 'root' as never, password: 'long enough pw' }, 'admin')).rejects.toThrow(/invalid role/);
  });

  it('opens a session that expires and stores no token', async () => {
    fixture = openClearingFixture('2025-05-06T00:00:00Z');
    const accounts = fixture.centre.accounts;
    await accounts.create({ username: 'wang.fang', displayName: '王芳', role: 'viewer', password: 'long enough pw' }, 'admin');
    const session = await accounts.login('wang.fang', 'long enough pw');
    expect(session?.identity.role).toBe('viewer');
    expect(fixture.centre.stores.operators.findSession(session!.token)).toBeUndefined();
    expect(accounts.authenticate(session!.token)?.username).toBe('wang.fang');
    fixture.clock.set('2025-05-06T08:00:00Z');
    expect(accounts.authenticate(session!.token)).toBeUndefined();
  });

  it('refuses a disabled account', async () => {
    fixture = openClearingFixture();
    const accounts = fixture.centre.accounts;
    await accounts.create({ username: 'wang.fang', displayName: '王芳', role: 'viewer', password: 'long enough pw' }, 'admin');
    await accounts.update('wang.fang', { disabled: true }, 'admin');
    expect(await accounts.login('wang.fang', 'long enough pw')).toBeUndefined();
  });
});
