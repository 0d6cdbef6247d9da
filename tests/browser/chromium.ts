import { chromium, type BrowserContext } from 'playwright-core';

/** Debian's Chromium, which the browser tests drive headless. */
export const CHROMIUM = '/usr/bin/chromium';

type LaunchOptions = Parameters<typeof chromium.launchPersistentContext>[1];

/**
 * Launches headless Chromium on a fresh profile. Every host name except 127.0.0.1 fails to
 * resolve, and background networking is off, so a test page can reach nothing else.
 */
export function launchChromium(profileDir: string, options: LaunchOptions = {}): Promise<BrowserContext> {
  return chromium.launchPersistentContext(profileDir, {
    executablePath: CHROMIUM,
    headless: true,
    args: ['--headless', '--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run', '--disable-background-networking', '--disable-component-update', '--disable-sync', '--host-resolver-rules=MAP * ~NOTFOUND , EXCLUDE 127.0.0.1'],
    ...options,
  });
}
