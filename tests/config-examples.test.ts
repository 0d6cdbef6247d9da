import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { backOfficeConfigSchema } from '../backoffice/src/config.js';
import { terminalConfigSchema } from '../terminal/src/runtime/terminal-config.js';

const root = join(import.meta.dirname, '..');
const readJson = (path: string): unknown => JSON.parse(readFileSync(join(root, path), 'utf8'));

describe('example configuration files', () => {
  it('terminal example is valid', () => {
    const result = terminalConfigSchema.safeParse(readJson('terminal/examples/terminal.json'));
    expect(result.error?.issues ?? []).toEqual([]);
  });

  it('back-office example is valid', () => {
    const result = backOfficeConfigSchema.safeParse(readJson('backoffice/examples/backoffice.json'));
    expect(result.error?.issues ?? []).toEqual([]);
  });
});
