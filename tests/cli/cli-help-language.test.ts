import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { main as backofficeMain } from '../../backoffice/src/command-line.js';
import { terminalMain } from '../../terminal/src/cli/terminal-main.js';
import { type CapturedOutput, type CommandOutput, type CommandRunner, captureOutput } from './command-output.js';

// Help and usage texts of busfare-backoffice and busfare-terminal: Chinese by default, English
// with --lang en or BUSFARE_LANG=en, and the same flags in both languages.

const CHINESE = /[\u4e00-\u9fff]/;

type Runner = CommandRunner;

const backoffice: Runner = (args) => backofficeMain(args);
const terminal: Runner = (args) => terminalMain(args);

/** Every localised help: the program and the arguments before --help. */
const HELP_COMMANDS: Array<[string, Runner, string[]]> = [
  ['busfare-backoffice', backoffice, []],
  ['busfare-backoffice serve', backoffice, ['serve']],
  ['busfare-backoffice terminals', backoffice, ['terminals']],
  ['busfare-backoffice params', backoffice, ['params']],
  ['busfare-backoffice params dry-run', backoffice, ['params', 'dry-run']],
  ['busfare-backoffice params publish', backoffice, ['params', 'publish']],
  ['busfare-backoffice params blacklist', backoffice, ['params', 'blacklist']],
  ['busfare-backoffice params status', backoffice, ['params', 'status']],
  ['busfare-backoffice params keygen', backoffice, ['params', 'keygen']],
  ['busfare-backoffice arrivals-eval', backoffice, ['arrivals-eval']],
  ['busfare-terminal', terminal, []],
  ['busfare-terminal nmea', terminal, ['nmea']],
  ['busfare-terminal run', terminal, ['run']],
  ['busfare-terminal list-readers', terminal, ['list-readers']],
  ['busfare-terminal read-card', terminal, ['read-card']],
  ['busfare-terminal version', terminal, ['version']],
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

async function run(runner: Runner, args: string[]): Promise<CommandOutput> {
  return output.run(runner, args);
}

function flagsOf(text: string): string[] {
  return [...new Set(text.match(/--[a-z][a-z-]*/g) ?? [])].sort();
}

describe.each(HELP_COMMANDS)('%s --help', (name, runner, args) => {
  it('is Chinese by default', async () => {
    const result = await run(runner, [...args, '--help']);
    expect(result.code).toBe(0);
    expect(result.stdout).toMatch(/^用法：/);
    expect(result.stdout).toMatch(CHINESE);
    expect(result.stdout).toContain(`用法：${name}`);
    expect(result.stdout).not.toMatch(/\{[A-Za-z]+\}/);
  });

  it('is English with --lang en', async () => {
    const result = await run(runner, [...args, '--help', '--lang', 'en']);
    expect(result.code).toBe(0);
    expect(result.stdout).toMatch(new RegExp(`^Usage: ${name}`));
    expect(result.stdout).not.toMatch(CHINESE);
    expect(result.stdout).not.toMatch(/\{[A-Za-z]+\}/);
  });

  it('is English with BUSFARE_LANG=en', async () => {
    vi.stubEnv('BUSFARE_LANG', 'en');
    const result = await run(runner, [...args, '--help']);
    expect(result.code).toBe(0);
    expect(result.stdout).toMatch(new RegExp(`^Usage: ${name}`));
  });

  it('prefers --lang zh over BUSFARE_LANG=en', async () => {
    vi.stubEnv('BUSFARE_LANG', 'en');
    const result = await run(runner, ['--lang', 'zh', ...args, '--help']);
    expect(result.stdout).toMatch(/^用法：/);
  });

  it('lists the same flags in zh and en', async () => {
    const chinese = await run(runner, [...args, '--help']);
    const english = await run(runner, [...args, '--help', '--lang=en']);
    expect(flagsOf(chinese.stdout)).toEqual(flagsOf(english.stdout));
    expect(flagsOf(english.stdout)).toContain('--lang');
  });

  it('exits 2 on --lang xx', async () => {
    const result = await run(runner, [...args, '--help', '--lang', 'xx']);
    expect(result.code).toBe(2);
    expect(result.stderr).toContain('invalid --lang "xx": expected zh or en');
    expect(result.stdout).toBe('');
  });

  it('warns and stays Chinese on BUSFARE_LANG=fr', async () => {
    vi.stubEnv('BUSFARE_LANG', 'fr');
    const result = await run(runner, [...args, '--help']);
    expect(result.code).toBe(0);
    expect(result.stdout).toMatch(CHINESE);
    expect(result.stderr).toContain('ignoring invalid BUSFARE_LANG "fr": expected zh or en');
  });
});

describe('usage texts printed with usage errors', () => {
  it('terminals usage error in English', async () => {
    const result = await run(backoffice, ['terminals', '--lang', 'en']);
    expect(result.code).toBe(2);
    expect(result.stderr).toContain('expected "add ID", "list" or "remove ID"');
    expect(result.stderr).toContain('Usage: busfare-backoffice terminals');
  });

  it('terminals usage error in Chinese', async () => {
    const result = await run(backoffice, ['terminals']);
    expect(result.code).toBe(2);
    expect(result.stderr).toContain('用法：busfare-backoffice terminals');
  });

  it('params usage error in Chinese', async () => {
    const result = await run(backoffice, ['params']);
    expect(result.code).toBe(2);
    expect(result.stderr).toMatch(/^用法：busfare-backoffice params/);
  });

  it('nmea usage error follows BUSFARE_LANG', async () => {
    vi.stubEnv('BUSFARE_LANG', 'en');
    const result = await run(terminal, ['nmea']);
    expect(result.code).toBe(2);
    expect(result.stderr).toContain('missing FILE');
    expect(result.stderr).toContain('Usage: busfare-terminal nmea');
  });

  it('run usage error in Chinese', async () => {
    const result = await run(terminal, ['run']);
    expect(result.code).toBe(2);
    expect(result.stderr).toContain('busfare-terminal run: 缺少 --config FILE');
    expect(result.stderr).toContain('用法：busfare-terminal run');
  });

  it('unknown terminal command prints usage', async () => {
    const result = await run(terminal, ['frobnicate', '--lang', 'en']);
    expect(result.code).toBe(2);
    expect(result.stderr).toContain('Usage: busfare-terminal COMMAND');
  });

  it('bare commands print Chinese help', async () => {
    expect((await run(backoffice, [])).code).toBe(2);
    expect(output.stdout).toMatch(/^用法：busfare-backoffice/);
    expect((await run(terminal, [])).code).toBe(2);
    expect(output.stdout).toMatch(/^用法：busfare-terminal/);
  });

  it.each(['publish', 'blacklist'])('params %s help lists the store options', async (command) => {
    for (const language of ['zh', 'en']) {
      const result = await run(backoffice, ['params', command, '--help', '--lang', language]);
      expect(result.stdout).toContain('--config FILE');
      expect(result.stdout).toContain('--signing-key FILE');
    }
  });

  it('run help lists the config fields in English', async () => {
    const result = await run(terminal, ['run', '--help', '--lang', 'en']);
    expect(result.stdout).toContain('parameterMaxOfflineHours (1-720, default 24)');
    expect(result.stdout).toContain('riderTapsWithoutShift "accept" (default) | "reject"');
  });

  it('run help lists the config fields in Chinese', async () => {
    const result = await run(terminal, ['run', '--help']);
    expect(result.stdout).toContain('parameterMaxOfflineHours（1-720，默认 24）');
    expect(result.stdout).toContain('riderTapsWithoutShift "accept"（默认）| "reject"');
    expect(result.stdout).toContain('port（默认 8091，0 表示任选空闲端口；');
  });

  it.each<[string, Runner, string[]]>([
    ['busfare-backoffice serve', backoffice, ['serve']],
    ['busfare-terminal run', terminal, ['run']],
  ])('%s Chinese help has no English default', async (_name, runner, args) => {
    const result = await run(runner, [...args, '--help']);
    expect(result.stdout).not.toMatch(/default/i);
    expect(result.stdout).not.toMatch(/\(默认/);
  });

  it.each<[string, Runner, string[]]>([
    ['busfare-terminal', terminal, []],
    ['busfare-backoffice params', backoffice, ['params']],
  ])('%s help lists -h, --help', async (_name, runner, args) => {
    for (const language of ['zh', 'en']) {
      const result = await run(runner, [...args, '--help', '--lang', language]);
      expect(result.stdout, language).toMatch(/^  -h, --help +\S/m);
    }
  });

  it('options parse beside --lang', async () => {
    const result = await run(backoffice, ['params', 'publish', '--lang', 'en', '--kind', 'nonsense']);
    expect(result.code).toBe(2);
    expect(result.stderr).toContain('invalid --kind "nonsense"');
  });
});
