import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { main as backofficeMain } from '../../backoffice/src/command-line.js';
import { main as benchMain } from '../../simulators/src/command-line.js';
import { terminalMain } from '../../terminal/src/cli/terminal-main.js';
import { type CapturedOutput, type CommandRunner, captureOutput } from './command-output.js';

// Every command that a program's own help lists prints its help and exits 0 on COMMAND --help.
// The commands are read from the "Commands:" section of the help, so a command added to the help
// is checked without editing this file.

interface Program {
  name: string;
  run: CommandRunner;
  /** Arguments before the command, for a command group such as "params". */
  prefix: string[];
}

const PROGRAMS: Program[] = [
  { name: 'busfare-terminal', run: (args) => terminalMain(args), prefix: [] },
  { name: 'busfare-backoffice', run: (args) => backofficeMain(args), prefix: [] },
  { name: 'busfare-backoffice params', run: (args) => backofficeMain(args), prefix: ['params'] },
  { name: 'busfare-bench', run: (args) => benchMain(args), prefix: [] },
];

let output: CapturedOutput;

beforeEach(() => {
  output = captureOutput();
  vi.stubEnv('BUSFARE_LANG', '');
});

afterEach(() => {
  vi.restoreAllMocks();
  vi.unstubAllEnvs();
});

/** Returns the first word of each line of the help's "Commands:" section. */
function listedCommands(help: string): string[] {
  const section = /^Commands:\n((?: {2}\S.*\n)+)/m.exec(help)?.[1] ?? '';
  return section
    .split('\n')
    .filter((line) => line.trim() !== '')
    .map((line) => line.trim().split(/\s+/)[0]!)
    .filter((word) => !word.startsWith('-'));
}

describe.each(PROGRAMS)('$name commands', ({ name, run, prefix }) => {
  it('lists commands in its help', async () => {
    const help = await output.run(run, [...prefix, '--help', '--lang', 'en']);
    expect(help.code).toBe(0);
    expect(listedCommands(help.stdout).length).toBeGreaterThan(1);
  });

  it.each(['--help', '-h'])('prints help for %s on each command', async (flag) => {
    const help = await output.run(run, [...prefix, '--help', '--lang', 'en']);
    for (const command of listedCommands(help.stdout)) {
      const result = await output.run(run, [...prefix, command, flag, '--lang', 'en']);
      expect(result.code, `${name} ${command} ${flag}`).toBe(0);
      expect(result.stdout, `${name} ${command} ${flag}`).toMatch(new RegExp(`^Usage: ${name} ${command}\\b`));
      expect(result.stderr, `${name} ${command} ${flag}`).toBe('');
    }
  });
});

describe('busfare-terminal version', () => {
  it('prints the version without --help', async () => {
    const result = await output.run((args) => terminalMain(args), ['version']);
    expect(result.code).toBe(0);
    expect(result.stdout).toMatch(/^\d+\.\d+\.\d+\S*\n$/);
  });

  it('prints Chinese help by default', async () => {
    const result = await output.run((args) => terminalMain(args), ['version', '--help']);
    expect(result.code).toBe(0);
    expect(result.stdout).toMatch(/^用法：busfare-terminal version/);
  });

  it('rejects an unknown option', async () => {
    const result = await output.run((args) => terminalMain(args), ['version', '--bogus', '--lang', 'en']);
    expect(result.code).toBe(2);
    expect(result.stderr).toContain('unknown option "--bogus"');
    expect(result.stdout).toBe('');
  });
});
