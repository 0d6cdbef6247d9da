import { describe, expect, it } from 'vitest';
import { z } from 'zod';
import { CLI_TEXT, VALIDATION_TEXT, validationText } from './catalogue.js';
import { zodIssueEntries, zodIssueLines, zodIssueText } from './zod-issue-text.js';

const CHINESE = /[\u4e00-\u9fff]/;

function issuesOf(schema: z.ZodType, value: unknown): z.core.$ZodIssue[] {
  const result = schema.safeParse(value);
  if (result.success) throw new Error('expected the value to fail the schema');
  return result.error.issues;
}

function linesOf(schema: z.ZodType, value: unknown) {
  const issues = issuesOf(schema, value);
  return { zh: zodIssueLines(issues, 'zh'), en: zodIssueLines(issues, 'en') };
}

describe('zodIssueLines', () => {
  it.each([
    ['wrong type', z.object({ port: z.number() }), { port: 'x' }, 'port: 类型无效：应为数字，实际为字符串', 'port: expected number, received string'],
    ['missing key', z.object({ db: z.string() }), {}, 'db: 缺少此项（应为字符串）', 'db: required, but missing (expected string)'],
    ['fraction for an integer', z.object({ count: z.number().int() }), { count: 1.5 }, 'count: 应为整数', 'count: must be a whole number'],
    ['positive number', z.object({ rate: z.number().positive() }), { rate: 0 }, 'rate: 应大于 0', 'rate: must be greater than 0'],
    ['minimum', z.object({ rate: z.number().min(3) }), { rate: 2 }, 'rate: 应不小于 3', 'rate: must be at least 3'],
    ['maximum', z.object({ port: z.number().max(65535) }), { port: 70000 }, 'port: 应不大于 65535', 'port: must be at most 65535'],
    ['exclusive maximum', z.object({ share: z.number().lt(1) }), { share: 1 }, 'share: 应小于 1', 'share: must be less than 1'],
    ['empty string', z.object({ name: z.string().min(1) }), { name: '' }, 'name: 不能为空', 'name: must not be empty'],
    ['long string', z.object({ name: z.string().max(4) }), { name: 'abcdef' }, 'name: 长度应不超过 4 个字符', 'name: must have at most 4 characters'],
    ['exact length', z.object({ code: z.string().length(3) }), { code: 'ab' }, 'code: 长度应为 3 个字符', 'code: must have exactly 3 characters'],
    ['too many items', z.object({ list: z.array(z.number()).max(2) }), { list: [1, 2, 3] }, 'list: 应不超过 2 项', 'list: must have at most 2 items'],
    ['enum', z.object({ kind: z.enum(['socket', 'pcsc']) }), { kind: 'usb' }, 'kind: 应为以下之一："socket"、"pcsc"', 'kind: expected one of "socket", "pcsc"'],
    ['literal', z.object({ version: z.literal(1) }), { version: 2 }, 'version: 应为 1', 'version: expected 1'],
    ['regex', z.object({ id: z.string().regex(/^\d+$/) }), { id: 'x' }, 'id: 格式无效：应匹配正则表达式 /^\\d+$/', 'id: invalid format: must match /^\\d+$/'],
    ['URL', z.object({ url: z.url() }), { url: 'nope' }, 'url: 格式无效：应为URL', 'url: invalid URL'],
    ['prefix', z.object({ topic: z.string().startsWith('bus/') }), { topic: 'car/1' }, 'topic: 格式无效：应以 "bus/" 开头', 'topic: invalid format: must start with "bus/"'],
    ['multiple', z.object({ fen: z.number().multipleOf(5) }), { fen: 7 }, 'fen: 应为 5 的倍数', 'fen: must be a multiple of 5'],
    ['unknown key', z.strictObject({ a: z.number() }), { a: 1, colour: 'red' }, '(root): 未知字段："colour"', '(root): unrecognized key "colour"'],
    ['unknown keys', z.strictObject({}), { b: 1, c: 2 }, '(root): 未知字段："b"、"c"', '(root): unrecognized keys "b", "c"'],
    ['discriminator', z.object({ gps: z.discriminatedUnion('kind', [z.object({ kind: z.literal('serial') }), z.object({ kind: z.literal('gpsd') })]) }), { gps: { kind: 'bt' } }, 'gps.kind: 应为以下之一："serial"、"gpsd"', 'gps.kind: expected one of "serial", "gpsd"'],
    ['refinement without message', z.object({ n: z.number().refine((value) => value % 2 === 0) }), { n: 3 }, 'n: 值无效', 'n: invalid value'],
    ['array element path', z.object({ list: z.array(z.number()) }), { list: [1, 'two'] }, 'list.1: 类型无效：应为数字，实际为字符串', 'list.1: expected number, received string'],
  ] as const)('%s', (_name, schema, value, chinese, english) => {
    const lines = linesOf(schema, value);
    expect(lines.zh).toEqual([chinese]);
    expect(lines.en).toEqual([english]);
  });

  it('keeps a schema message in English', () => {
    const schema = z.object({ departure: z.string().regex(/^\d\d:\d\d$/, 'must be a departure time such as 07:30') });
    const lines = linesOf(schema, { departure: '9am' });
    expect(lines.en).toEqual(['departure: must be a departure time such as 07:30']);
    expect(lines.zh).toEqual(['departure: 格式无效：应匹配正则表达式 /^\\d\\d:\\d\\d$/']);
  });

  it('words a schema bound from its code in Chinese', () => {
    const schema = z.object({ seats: z.number().max(90, 'a bus has at most 90 seats') });
    const lines = linesOf(schema, { seats: 120 });
    expect(lines.en).toEqual(['seats: a bus has at most 90 seats']);
    expect(lines.zh).toEqual(['seats: 应不大于 90']);
  });

  it('translates a schema message from the catalogue', () => {
    const english = VALIDATION_TEXT['validation.schema.localTime'].en;
    const schema = z.object({ businessDayCutoff: z.string().regex(/^\d\d:\d\d$/, english) });
    const lines = linesOf(schema, { businessDayCutoff: '9am' });
    expect(lines.en).toEqual([`businessDayCutoff: ${english}`]);
    expect(lines.zh).toEqual([`businessDayCutoff: ${VALIDATION_TEXT['validation.schema.localTime'].zh}`]);
  });

  it('brackets a refinement message outside the catalogue', () => {
    const schema = z.object({ a: z.number() }).refine(() => false, { message: 'a must be even' });
    const lines = linesOf(schema, { a: 1 });
    expect(lines.en).toEqual(['(root): a must be even']);
    expect(lines.zh).toEqual(['(root): 值无效（a must be even）']);
  });

  it('translates a catalogue message', () => {
    const english = CLI_TEXT['cli.nmea.tooManyFiles'].en;
    const schema = z.object({ files: z.array(z.string()) }).refine(() => false, { message: english, path: ['files'] });
    const lines = linesOf(schema, { files: [] });
    expect(lines.en).toEqual([`files: ${english}`]);
    expect(lines.zh).toEqual([`files: ${CLI_TEXT['cli.nmea.tooManyFiles'].zh}`]);
  });

  it('prints a path prefix and a root name', () => {
    const issues = issuesOf(z.strictObject({ rate: z.number() }), { rate: 'x', extra: 1 });
    expect(zodIssueLines(issues, 'en', { pathPrefix: ['body'], rootName: '(config)' })).toEqual(['body.rate: expected number, received string', 'body: unrecognized key "extra"']);
    expect(zodIssueLines(issues, 'zh', { rootName: '(config)' })).toEqual(['rate: 类型无效：应为数字，实际为字符串', '(config): 未知字段："extra"']);
  });

  it('keeps field names and values as written', () => {
    const lines = linesOf(z.object({ driverScreen: z.object({ riderTapsWithoutShift: z.enum(['accept', 'reject']) }) }), { driverScreen: { riderTapsWithoutShift: 'no' } });
    expect(lines.zh[0]).toMatch(/^driverScreen\.riderTapsWithoutShift: /);
    expect(lines.zh[0]).toContain('"accept"、"reject"');
  });

  it('uses no English words in Chinese defaults', () => {
    const schema = z.strictObject({ a: z.number(), b: z.string().min(2), c: z.enum(['x', 'y']), d: z.boolean() });
    for (const line of linesOf(schema, { a: 'x', b: '', c: 'z', d: 1, e: 2 }).zh) {
      const text = line.slice(line.indexOf(': ') + 2);
      expect(text).toMatch(CHINESE);
      expect(text).not.toMatch(/\b(expected|received|must|Invalid|Too|Unrecognized)\b/);
    }
  });
});

describe('zodIssueText', () => {
  it('uses full-width punctuation in Chinese', () => {
    const [issue] = issuesOf(z.object({ port: z.number() }), { port: 'x' });
    expect(zodIssueText(issue!, 'zh')).toBe('类型无效：应为数字，实际为字符串');
    expect(zodIssueText(issue!, 'zh')).not.toMatch(/[,:;()]/);
  });

  it('names a type it has no entry for as zod does', () => {
    const [issue] = issuesOf(z.object({ at: z.symbol() }), { at: 1 });
    expect(zodIssueText(issue!, 'en')).toBe('expected symbol, received number');
    expect(zodIssueText(issue!, 'zh')).toBe(`类型无效：应为symbol，实际为${validationText('validation.type.number', 'zh')}`);
  });
});

describe('zodIssueEntries', () => {
  it('holds both languages line by line', () => {
    const issues = issuesOf(z.object({ a: z.number(), b: z.string() }), { a: 'x' });
    expect(zodIssueEntries(issues, { pathPrefix: ['body'] })).toEqual([
      { zh: 'body.a: 类型无效：应为数字，实际为字符串', en: 'body.a: expected number, received string' },
      { zh: 'body.b: 缺少此项（应为字符串）', en: 'body.b: required, but missing (expected string)' },
    ]);
  });
});
