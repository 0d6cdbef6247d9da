import { parseArgs } from 'node:util';
import { describe, expect, it } from 'vitest';
import { parseArgsErrorText, problemListText } from './cli-usage.js';

function parseError(args: string[]): unknown {
  try {
    parseArgs({ args, options: { config: { type: 'string' }, help: { type: 'boolean', short: 'h' } }, strict: true, allowPositionals: false });
  } catch (error) {
    return error;
  }
  throw new Error(`parseArgs accepted ${args.join(' ')}`);
}

describe('parseArgsErrorText', () => {
  it.each([
    [['--bogus'], '未知选项 "--bogus"，运行 "demo --help" 查看可用选项', 'unknown option "--bogus". Run "demo --help" to list the options.'],
    [['-x'], '未知选项 "-x"，运行 "demo --help" 查看可用选项', 'unknown option "-x". Run "demo --help" to list the options.'],
    [['--config'], '选项 --config 缺少取值', 'missing value after --config'],
    [['--help=yes'], '选项 --help 不带取值', '--help takes no value'],
    [['extra'], '多余的参数 "extra"：此命令不接受位置参数', 'unexpected argument "extra": this command takes no positional arguments'],
  ])('translates %j', (args, chinese, english) => {
    const error = parseError(args);
    expect(parseArgsErrorText(error, 'zh', 'demo')).toBe(chinese);
    expect(parseArgsErrorText(error, 'en', 'demo')).toBe(english);
  });

  it('returns undefined for other errors', () => {
    expect(parseArgsErrorText(new Error('disk full'), 'zh', 'demo')).toBeUndefined();
    expect(parseArgsErrorText('not an error', 'zh', 'demo')).toBeUndefined();
  });
});

describe('problemListText', () => {
  it('indents each problem under the lead', () => {
    expect(problemListText('配置无效（a.json）：', ['db: missing', 'http.port: invalid'])).toBe('配置无效（a.json）：\n  db: missing\n  http.port: invalid');
  });
});
