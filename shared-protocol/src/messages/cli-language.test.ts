import { describe, expect, it } from 'vitest';
import { CLI_HELP, type CliHelpId, cliHelp } from './catalogue.js';
import { LanguageOptionError, takeLanguageOption } from './cli-language.js';

const CHINESE = /[\u4e00-\u9fff]/;

function flagsOf(text: string): string[] {
  return [...new Set(text.match(/--[a-z][a-z-]*/g) ?? [])].sort();
}

describe('takeLanguageOption', () => {
  it('defaults to zh without --lang or fallback', () => {
    expect(takeLanguageOption(['serve', '--help'], undefined)).toEqual({ language: 'zh', args: ['serve', '--help'] });
  });

  it('treats an empty fallback as unset', () => {
    expect(takeLanguageOption(['--help'], '').language).toBe('zh');
  });

  it('uses the fallback without --lang', () => {
    expect(takeLanguageOption(['--help'], 'en').language).toBe('en');
  });

  it('takes --lang VALUE out anywhere', () => {
    const selection = takeLanguageOption(['params', '--lang', 'en', 'publish', '--help'], 'zh');
    expect(selection.language).toBe('en');
    expect(selection.args).toEqual(['params', 'publish', '--help']);
  });

  it('takes --lang=VALUE out', () => {
    const selection = takeLanguageOption(['--lang=en', 'serve'], undefined);
    expect(selection.language).toBe('en');
    expect(selection.args).toEqual(['serve']);
  });

  it('lets the last --lang win', () => {
    expect(takeLanguageOption(['--lang', 'en', '--lang', 'zh'], undefined).language).toBe('zh');
  });

  it('ignores an invalid BUSFARE_LANG with a warning', () => {
    const selection = takeLanguageOption(['--help'], 'fr');
    expect(selection.language).toBe('zh');
    expect(selection.args).toEqual(['--help']);
    expect(selection.warning).toMatch(/ignoring invalid BUSFARE_LANG "fr": expected zh or en/);
  });

  it('keeps --lang after -- as an argument', () => {
    const selection = takeLanguageOption(['nmea', '--', '--lang', 'en'], undefined);
    expect(selection.language).toBe('zh');
    expect(selection.args).toEqual(['nmea', '--', '--lang', 'en']);
  });

  it.each([
    [['--lang', 'xx'], undefined, /invalid --lang "xx": expected zh or en/],
    [['--lang=EN'], undefined, /invalid --lang "EN"/],
    [['--lang='], undefined, /invalid --lang ""/],
    [['--help', '--lang'], undefined, /missing value after --lang/],
  ] as const)('rejects %j with fallback %s', (args, fallback, message) => {
    expect(() => takeLanguageOption(args, fallback)).toThrow(LanguageOptionError);
    expect(() => takeLanguageOption(args, fallback)).toThrow(message);
  });
});

describe('CLI_HELP', () => {
  // The store options are a fragment that other help texts take in by its {storeOptions} placeholder.
  const fragments: CliHelpId[] = ['backoffice.params.storeOptions'];
  const ids = (Object.keys(CLI_HELP) as CliHelpId[]).filter((id) => !fragments.includes(id));

  it.each(Object.keys(CLI_HELP) as CliHelpId[])('%s lists the same flags in zh and en', (id) => {
    expect(flagsOf(CLI_HELP[id].zh)).toEqual(flagsOf(CLI_HELP[id].en));
  });

  it.each(ids)('%s documents --lang in both languages', (id) => {
    expect(CLI_HELP[id].zh).toContain('--lang zh|en');
    expect(CLI_HELP[id].en).toContain('--lang zh|en');
    expect(CLI_HELP[id].zh).toContain('BUSFARE_LANG');
    expect(CLI_HELP[id].en).toContain('BUSFARE_LANG');
  });

  it.each(ids)('%s is Chinese in zh and English in en', (id) => {
    expect(CLI_HELP[id].zh).toMatch(/^用法：/);
    expect(CLI_HELP[id].zh).toMatch(CHINESE);
    expect(CLI_HELP[id].en).toMatch(/^Usage: /);
    expect(CLI_HELP[id].en).not.toMatch(CHINESE);
  });

  it('defaults cliHelp to zh and fills placeholders', () => {
    expect(cliHelp('terminal.nmea')).toBe(cliHelp('terminal.nmea', 'zh'));
    const text = cliHelp('terminal.nmea', 'en', { buildDate: '2026-01-02', maxHdop: 4, minSatellites: 5 });
    expect(text).toContain('build date 2026-01-02');
    expect(text).toContain('(default 4)');
    expect(text).not.toMatch(/\{(buildDate|maxHdop|minSatellites)\}/);
  });
});
