import { randomBytes } from 'node:crypto';
import { writeFileSync } from 'node:fs';
import type { Logger } from '../logger.js';
import type { OperatorAccounts } from './operator-accounts.js';

export interface InitialAdministrator {
  username: string;
  password: string;
}

/**
 * Creates the first administrator when the database has no operator account. Without a given
 * password it generates one and writes it to `passwordFile` (mode 0600), because a password must
 * not reach the logs. The log names the file. Returns the username created, or undefined.
 */
export async function ensureInitialAdministrator(
  accounts: OperatorAccounts,
  options: { given?: InitialAdministrator; passwordFile?: string; logger: Logger },
): Promise<string | undefined> {
  if (accounts.count() > 0) return undefined;
  const username = options.given?.username ?? 'admin';
  const password = options.given?.password ?? randomBytes(18).toString('base64url');
  await accounts.create({ username, displayName: username, role: 'administrator', password }, 'system');
  if (options.given === undefined) {
    if (options.passwordFile === undefined) {
      options.logger.warn({ username }, 'created the first administrator with a random password, but no file to write it to: reset it in the database');
    } else {
      writeFileSync(options.passwordFile, `${username}\n${password}\n`, { mode: 0o600 });
      options.logger.warn({ username, passwordFile: options.passwordFile }, 'created the first administrator: its password is in the file, change it after the first login');
    }
  }
  return username;
}
