import { execFileSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { TERMINAL_NODE_FLAGS, missingTerminalNodeFlags } from './node-flags.js';

const BIN = fileURLToPath(new URL('../../bin/busfare-terminal.js', import.meta.url));

describe('terminal node flags', () => {
  it('lists the flags a process was started without', () => {
    expect(missingTerminalNodeFlags([])).toEqual([...TERMINAL_NODE_FLAGS]);
    expect(missingTerminalNodeFlags(['--enable-source-maps', ...TERMINAL_NODE_FLAGS])).toEqual([]);
  });

  it('starts the terminal bin with every flag through its shebang', () => {
    const shebang = readFileSync(BIN, 'utf8').split('\n')[0]!;
    expect(shebang.startsWith('#!/usr/bin/env -S node ')).toBe(true);
    expect(shebang.split(' ').slice(3)).toEqual([...TERMINAL_NODE_FLAGS]);
  });

  it('runs the bin through its shebang', () => {
    expect(execFileSync(BIN, ['version'], { encoding: 'utf8' }).trim()).toMatch(/^\d+\.\d+\.\d+/);
  });
});
