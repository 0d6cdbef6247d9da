// vitest global setup: prepares the machine as `npm test` does, for runs that call vitest directly.
// Without root it installs nothing, so a developer's targeted run stays quick and offline.
import { prepareTests } from './prepare-tests.mjs';

export default async function setup() {
  await prepareTests((line) => process.stderr.write(`[test setup] ${line}\n`), { installAddons: false });
}
