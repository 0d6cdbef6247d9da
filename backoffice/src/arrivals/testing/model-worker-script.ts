import { symlinkSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { build } from 'esbuild';

/**
 * Builds the model worker script into `directory` and returns its URL. The worker runs as built
 * JavaScript, as in the tsup bundles. better-sqlite3 stays external, as in the bundles, and
 * resolves through a link to the repository's node_modules.
 */
export async function buildModelWorkerScript(directory: string): Promise<URL> {
  symlinkSync(fileURLToPath(new URL('../../../../node_modules', import.meta.url)), join(directory, 'node_modules'), 'dir');
  const outfile = join(directory, 'model-worker.js');
  await build({
    entryPoints: [fileURLToPath(new URL('../realtime/model-worker.ts', import.meta.url))],
    outfile,
    bundle: true,
    platform: 'node',
    format: 'esm',
    target: 'node20',
    external: ['better-sqlite3'],
    tsconfig: fileURLToPath(new URL('../../../../tsconfig.base.json', import.meta.url)),
    logLevel: 'silent',
  });
  return pathToFileURL(outfile);
}
