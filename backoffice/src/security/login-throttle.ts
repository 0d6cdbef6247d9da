import { BoundedMap } from '@busfare/shared-protocol';

export interface LoginThrottleOptions {
  /** Failed logins of one user name within the window before it is locked. */
  maxFailuresPerUsername: number;
  /** Failed logins from one client address within the window before it is locked. */
  maxFailuresPerAddress: number;
  /** Milliseconds over which failures are counted, and for which a lock lasts. */
  windowMs: number;
  /** Maximum entries kept. The oldest is dropped first, so a spray of names cannot exhaust memory. */
  maxEntries: number;
  /** Monotonic milliseconds; defaults to performance.now(). */
  now: () => number;
}

export const DEFAULT_LOGIN_THROTTLE: Omit<LoginThrottleOptions, 'now'> = {
  maxFailuresPerUsername: 5,
  maxFailuresPerAddress: 20,
  windowMs: 15 * 60_000,
  maxEntries: 10_000,
};

interface FailureWindow {
  startedAt: number;
  failures: number;
}

/**
 * Counts failed console logins per user name and per client address, in memory, and locks a name
 * or address that reaches its limit until its window ends. A lock on a name stops guessing that
 * name from many addresses, and a lock on an address stops one client trying many names.
 * NOTE: a lock on a name also keeps its rightful operator out until the window ends, and the
 * counts restart with the process.
 */
export class LoginThrottle {
  private readonly options: LoginThrottleOptions;
  /** Failure windows by key. Setting a key again moves it to the newest place, so the least recently failed goes first. */
  private readonly windows: BoundedMap<string, FailureWindow>;

  constructor(options: Partial<LoginThrottleOptions> = {}) {
    this.options = { ...DEFAULT_LOGIN_THROTTLE, now: () => performance.now(), ...options };
    this.windows = new BoundedMap(this.options.maxEntries);
  }

  /** Returns the milliseconds until this login may be tried again, or 0 when it may be tried now. */
  retryAfterMs(username: string, address: string): number {
    const now = this.options.now();
    let wait = 0;
    for (const [key, limit] of this.keysOf(username, address)) {
      const window = this.liveWindow(key, now);
      if (window && window.failures >= limit) wait = Math.max(wait, window.startedAt + this.options.windowMs - now);
    }
    return wait;
  }

  recordFailure(username: string, address: string): void {
    const now = this.options.now();
    for (const [key] of this.keysOf(username, address)) {
      const window = this.liveWindow(key, now) ?? { startedAt: now, failures: 0 };
      window.failures += 1;
      this.windows.set(key, window);
    }
  }

  /** Clears the user name's failures after a successful login. The address keeps its count. */
  recordSuccess(username: string): void {
    this.windows.delete(usernameKey(username));
  }

  private keysOf(username: string, address: string): [string, number][] {
    return [
      [usernameKey(username), this.options.maxFailuresPerUsername],
      [`address:${address}`, this.options.maxFailuresPerAddress],
    ];
  }

  private liveWindow(key: string, now: number): FailureWindow | undefined {
    const window = this.windows.get(key);
    if (window && now - window.startedAt >= this.options.windowMs) {
      this.windows.delete(key);
      return undefined;
    }
    return window;
  }
}

function usernameKey(username: string): string {
  return `username:${username.trim().toLowerCase()}`;
}
