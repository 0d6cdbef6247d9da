import { fileURLToPath } from 'node:url';
import { defineConfig } from 'vitest/config';

const fromRoot = (path: string) => fileURLToPath(new URL(path, import.meta.url));

// One run covers every workspace. Workspace packages resolve to their TypeScript sources, so
// tests never depend on a previous build.
export default defineConfig({
  resolve: {
    alias: {
      '@busfare/shared-protocol': fromRoot('./shared-protocol/src/index.ts'),
      '@busfare/terminal': fromRoot('./terminal/src/index.ts'),
      '@busfare/backoffice': fromRoot('./backoffice/src/index.ts'),
      '@busfare/simulators': fromRoot('./simulators/src/index.ts'),
    },
  },
  test: {
    include: ['{shared-protocol,terminal,backoffice,simulators}/src/**/*.test.ts', 'tests/**/*.test.ts'],
    testTimeout: 30_000,
    hookTimeout: 60_000,
    pool: 'forks',
    // As root, installs the system packages and addons the tests need, as `npm test` does.
    globalSetup: ['./scripts/vitest-global-setup.mjs'],
  },
});
