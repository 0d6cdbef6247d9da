import { defineConfig } from 'tsup';

// The CLI bundles the other busfare workspaces from their TypeScript sources (tsconfig paths),
// so a workspace builds without waiting for the others; npm packages stay external.
export default defineConfig({
  // The back office starts its payload-check and model worker threads from the scripts beside cli.js.
  entry: {
    cli: 'src/cli.ts',
    'payload-check-worker': '../backoffice/src/ingest/payload-check-worker.ts',
    'model-worker': '../backoffice/src/arrivals/realtime/model-worker.ts',
  },
  format: ['esm'],
  platform: 'node',
  target: 'node20',
  outDir: 'dist',
  clean: true,
  sourcemap: true,
  splitting: false,
  tsconfig: '../tsconfig.base.json',
  noExternal: [/^@busfare\//],
  // Every npm package stays external, including those only another workspace depends on.
  external: [/^(?!@busfare\/)[^./]/],
});
