import type { Client } from 'aedes';
import { topics } from '@busfare/shared-protocol';
import { describe, expect, it } from 'vitest';
import { createLogger } from '../logger.js';
import { CredentialCheckQueue } from './credential-check-queue.js';
import { terminalAccessHooks } from './terminal-access.js';

interface PendingCheck {
  terminalId: string;
  settle: (valid: boolean) => void;
}

/** Returns a credential store whose checks stay pending until the test settles them. */
function slowCredentials() {
  const pending: PendingCheck[] = [];
  let calls = 0;
  const credentials = {
    verify: (terminalId: string) => {
      calls += 1;
      return new Promise<boolean>((resolve) => pending.push({ terminalId, settle: resolve }));
    },
    secretSalt: () => Buffer.from('salt'),
  };
  return { credentials, pending, calls: () => calls };
}

type Outcome = { code: number | undefined; success: boolean | null };

function connectAs(hooks: ReturnType<typeof terminalAccessHooks>, terminalId: string): Promise<Outcome> {
  const client = { id: terminalId } as unknown as Client;
  return new Promise((resolve) => {
    hooks.authenticate!(client, terminalId, Buffer.from('secret'), (error, success) => resolve({ code: error?.returnCode, success }));
  });
}

function flush(): Promise<void> {
  return new Promise((resolve) => setImmediate(resolve));
}

describe('terminal credential checks', () => {
  it('runs one check at a time', async () => {
    const { credentials, pending, calls } = slowCredentials();
    const hooks = terminalAccessHooks({ credentials, services: [], logger: createLogger('test', 'silent'), maxCredentialChecksWaiting: 10 });

    const outcomes = ['T1', 'T2', 'T3'].map((terminalId) => connectAs(hooks, terminalId));
    await flush();
    expect(calls()).toBe(1);

    pending.shift()!.settle(true);
    await flush();
    expect(calls()).toBe(2);

    pending.shift()!.settle(false);
    await flush();
    pending.shift()!.settle(true);

    expect(await Promise.all(outcomes)).toEqual([
      { code: undefined, success: true },
      { code: 4, success: false },
      { code: undefined, success: true },
    ]);
  });

  it('refuses a check beyond the queue as unavailable', async () => {
    const { credentials, pending, calls } = slowCredentials();
    const hooks = terminalAccessHooks({ credentials, services: [], logger: createLogger('test', 'silent'), maxCredentialChecksWaiting: 1 });

    const admitted = [connectAs(hooks, 'T1'), connectAs(hooks, 'T2')];
    const refused = await connectAs(hooks, 'T3');

    expect(refused).toEqual({ code: 3, success: false });
    await flush();
    expect(calls()).toBe(1);
    pending.shift()!.settle(true);
    await flush();
    pending.shift()!.settle(true);
    expect((await Promise.all(admitted)).map((outcome) => outcome.success)).toEqual([true, true]);
  });

  it('goes on after a failing check', async () => {
    const { credentials, pending } = slowCredentials();
    const failing = { ...credentials, verify: () => Promise.reject(new Error('database is locked')) };
    const hooks = terminalAccessHooks({ credentials: failing, services: [], logger: createLogger('test', 'silent') });

    expect(await connectAs(hooks, 'T1')).toEqual({ code: 5, success: false });
    expect(await connectAs(hooks, 'T2')).toEqual({ code: 5, success: false });
    expect(pending).toHaveLength(0);
  });

  it('rejects an invalid queue length', () => {
    for (const maxWaiting of [-1, 1.5, Number.NaN]) expect(() => new CredentialCheckQueue(maxWaiting)).toThrow(/maxWaiting must be a non-negative integer/);
  });

  it('refuses a terminal when the salt cannot be read', async () => {
    const broken = {
      verify: async () => true,
      secretSalt: (): Buffer => {
        throw new TypeError('The database connection is not open');
      },
    };
    const hooks = terminalAccessHooks({ credentials: broken, services: [], logger: createLogger('test', 'silent') });

    expect(await connectAs(hooks, 'T1')).toEqual({ code: 4, success: false });
  });
});

describe('revalidation of a terminal connection', () => {
  it('keeps the connection when the credential store cannot be read', async () => {
    let failing = false;
    const credentials = {
      verify: () => Promise.resolve(true),
      secretSalt: () => {
        if (failing) throw new Error('SQLITE_IOERR: disk I/O error');
        return Buffer.from('salt');
      },
    };
    const hooks = terminalAccessHooks({ credentials, services: [], logger: createLogger('test', 'silent') });
    const client = { id: 'T1' } as unknown as Client;
    await new Promise<void>((resolve) => hooks.authenticate!(client, 'T1', Buffer.from('secret'), () => resolve()));
    const publish = () => new Promise<Error | null | undefined>((resolve) => hooks.authorizePublish!(client, { topic: topics.status('T1'), payload: Buffer.from('{}'), retain: false } as never, (error) => resolve(error)));
    expect(hooks.stillAuthorized!(client)).toBe(true);
    expect(await publish()).toBeFalsy();

    failing = true;
    expect(hooks.stillAuthorized!(client)).toBe(true);
    // A publish on the same failure is refused all the same.
    expect(await publish()).toBeInstanceOf(Error);
  });
});
