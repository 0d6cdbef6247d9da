#!/usr/bin/env -S node --no-memory-reducer --max-semi-space-size=2
// The flags after node are TERMINAL_NODE_FLAGS (src/runtime/node-flags.ts); env -S splits them.
// The CLI is bundled into dist/ by the workspace's prepare step (tsup).
import('../dist/cli.js').catch((error) => {
  if (error?.code === 'ERR_MODULE_NOT_FOUND' && String(error.message).includes('dist/cli.js')) {
    process.stderr.write('This command is not built yet: run `npm install` (or `npm run build`) at the repository root.\n');
    process.exit(1);
  }
  throw error;
});
