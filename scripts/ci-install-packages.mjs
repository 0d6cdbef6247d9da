#!/usr/bin/env node
// Installs the Debian packages the tests need before `npm ci`, so optional native modules build.
import { ensureSystemPackages } from './system-packages.mjs';

const missing = await ensureSystemPackages((line) => process.stderr.write(`[ci] ${line}\n`));
process.exit(missing.length === 0 ? 0 : 1);
