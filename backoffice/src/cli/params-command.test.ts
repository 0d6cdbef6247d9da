import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import Database from 'better-sqlite3';
import { parse } from 'csv-parse/sync';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { generateParameterSigningKeys } from '@busfare/shared-protocol';
import { ParameterAuthoring } from '../params/authoring.js';
import { ParameterRepository } from '../params/parameter-repository.js';
import { paramsCommand } from './params-command.js';

const example = (name: string) => fileURLToPath(new URL(`../../examples/${name}`, import.meta.url));
const BULLRUNNER = fileURLToPath(new URL('../gtfs/fixtures/bullrunner', import.meta.url));
const HEADER = 'time,vehicle,cardNumber,cardType,balanceFen,route,direction,stop,tapKind';

async function run(args: string[]): Promise<{ code: number; stdout: string; stderr: string }> {
  let stdout = '';
  let stderr = '';
  const code = await paramsCommand(args, { stdout: (text) => (stdout += text), stderr: (text) => (stderr += text) }, 'en');
  return { code, stdout, stderr };
}

function rows(csv: string): Record<string, string>[] {
  return parse(csv, { columns: true }) as Record<string, string>[];
}

describe('params dry-run', () => {
  let dir: string;
  beforeEach(() => {
    dir = mkdtempSync(join(tmpdir(), 'busfare-dry-run-'));
  });
  afterEach(() => {
    rmSync(dir, { recursive: true, force: true });
  });

  function file(name: string, text: string): string {
    const path = join(dir, name);
    writeFileSync(path, text);
    return path;
  }

  it('prices the example taps', async () => {
    const result = await run(['dry-run', '--table', example('fare-table-sections.json'), '--taps', example('sample-taps.csv')]);
    expect(result.stderr).toBe('');
    expect(result.code).toBe(0);
    const output = rows(result.stdout);
    expect(result.stdout.split('\n')[0]).toBe(`${HEADER},fareFen,balanceAfterFen,promptId,reason`);
    const priced = output.map((row) => [row.fareFen, row.balanceAfterFen, row.promptId]);
    expect(priced).toEqual([
      ['200', '800', 'fare-paid'],
      ['200', '600', 'companion'],
      ['100', '500', 'transfer'],
      ['100', '700', 'card-type-student'],
      ['0', '700', 'please-tap-off'],
      ['50', '650', 'transfer'],
      ['0', '0', 'low-balance'],
      ['0', '0', 'repeat-tap'],
      ['0', '600', 'please-tap-off'],
      ['400', '200', 'missing-tap-off-charged'],
      ['200', '800', 'card-type-monthly'],
    ]);
    expect(output[0]!.balanceFen).toBe('1000');
    expect(output[1]!.balanceFen).toBe('');
  });

  it('prices sections from a GTFS folder', async () => {
    const table = JSON.parse(
      `{"currency":"CNY","flatFareFen":100,"cardTypes":{"ordinary":{"allowed":true,"ratePercent":100},"tunion-out-of-town":{"allowed":true,"ratePercent":100}},"cardTypeByCode":{"1":"ordinary"},"localIssuerPrefixes":["9900"],"lowBalanceWarningFen":0,"sectionRoutes":{"A":{"bands":[{"maxStops":3,"fareFen":100},{"maxStops":50,"fareFen":200}]}}}`,
    );
    const tablePath = file('table.json', JSON.stringify(table));
    const taps = file('taps.csv', `${HEADER}\n2026-01-05T08:00:00-05:00,BR1,C1,ordinary,1000,A,0,222,on\n2026-01-05T08:05:00-05:00,BR1,C1,ordinary,,A,0,101,off\n`);
    const result = await run(['dry-run', '--table', tablePath, '--taps', taps, '--routes', BULLRUNNER]);
    expect(result.stderr).toBe('');
    expect(rows(result.stdout).map((row) => [row.fareFen, row.promptId])).toEqual([
      ['0', 'please-tap-off'],
      ['200', 'fare-paid'],
    ]);
  });

  it('refuses sections without stop data', async () => {
    const tablePath = file('table.json', `{"currency":"CNY","flatFareFen":100,"cardTypes":{"ordinary":{"allowed":true,"ratePercent":100}},"cardTypeByCode":{"1":"ordinary"},"localIssuerPrefixes":["9900"],"lowBalanceWarningFen":0,"sectionRoutes":{"A":{"bands":[{"maxStops":3,"fareFen":100}]}}}`);
    const taps = file('taps.csv', `${HEADER}\n2026-01-05T08:00:00+08:00,BR1,C1,ordinary,1000,A,0,222,on\n`);
    const result = await run(['dry-run', '--table', tablePath, '--taps', taps]);
    expect(result.code).toBe(0);
    expect(rows(result.stdout)[0]).toMatchObject({ fareFen: '0', balanceAfterFen: '1000', promptId: 'stop-unknown' });
  });

  it('quotes reasons with commas', async () => {
    const taps = file('taps.csv', `${HEADER}\n2026-01-05T08:00:00+08:00,"V,1",C1,student,1000,1,0,,single\n`);
    const result = await run(['dry-run', '--table', example('fare-table-sections.json'), '--taps', taps]);
    expect(rows(result.stdout)[0]!.vehicle).toBe('V,1');
  });

  it('lists every invalid tap row', async () => {
    const taps = file(
      'taps.csv',
      `${HEADER}\n2026-01-05 08:00,V1,C1,ordinary,100,1,0,,single\n2026-01-05T08:00:00+08:00,V1,C2,pensioner,,1,2,,both\n`,
    );
    const result = await run(['dry-run', '--table', example('fare-table-sections.json'), '--taps', taps]);
    expect(result.code).toBe(2);
    expect(result.stdout).toBe('');
    expect(result.stderr).toContain('line 2: time "2026-01-05 08:00" is not ISO 8601 with a UTC offset');
    expect(result.stderr).toContain('line 3: cardType "pensioner" is not one of');
    expect(result.stderr).toContain('line 3: balanceFen is empty on the first row of card C2');
    expect(result.stderr).toContain('line 3: direction "2" is not 0 or 1');
    expect(result.stderr).toContain('line 3: tapKind "both" is not on, off or single');
  });

  it('rejects a missing column', async () => {
    const taps = file('taps.csv', 'time,vehicle,cardNumber\n');
    const result = await run(['dry-run', '--table', example('fare-table-sections.json'), '--taps', taps]);
    expect(result.code).toBe(2);
    expect(result.stderr).toMatch(/missing column\(s\) cardType, balanceFen, route, direction, stop, tapKind/);
  });

  it('lists every fare table problem', async () => {
    const tablePath = file('table.json', '{"currency":"USD","flatFareFen":-1,"cardTypes":{"pensioner":{"allowed":true,"ratePercent":50}},"cardTypeByCode":{},"localIssuerPrefixes":[],"lowBalanceWarningFen":0}');
    const taps = file('taps.csv', `${HEADER}\n`);
    const result = await run(['dry-run', '--table', tablePath, '--taps', taps]);
    expect(result.code).toBe(2);
    expect(result.stderr).toMatch(/currency/);
    expect(result.stderr).toMatch(/flatFareFen/);
    expect(result.stderr).toMatch(/cardTypes/);
    expect(result.stderr).toMatch(/localIssuerPrefixes/);
  });

  it('reads a fare table parameter set', async () => {
    const body = JSON.parse(await import('node:fs').then((fs) => fs.readFileSync(example('fare-table.json'), 'utf8')));
    const tablePath = file('set.json', JSON.stringify({ schema: 'busfare.parameters/1', kind: 'fare-table', version: 1, body }));
    const taps = file('taps.csv', `${HEADER}\n2026-01-05T08:00:00+08:00,V1,C1,ordinary,1000,K1,0,,single\n`);
    const result = await run(['dry-run', '--table', tablePath, '--taps', taps]);
    expect(rows(result.stdout)[0]).toMatchObject({ fareFen: '300', promptId: 'fare-paid' });
  });

  it('rejects a table file that is not JSON', async () => {
    const result = await run(['dry-run', '--table', file('table.json', '{'), '--taps', file('taps.csv', `${HEADER}\n`)]);
    expect(result.code).toBe(2);
    expect(result.stderr).toMatch(/cannot read the fare table/);
  });

  it('requires --table', async () => {
    const result = await run(['dry-run', '--taps', 'x.csv']);
    expect(result.code).toBe(2);
    expect(result.stderr).toMatch(/missing --table/);
  });

  it('rejects an unknown command', async () => {
    expect((await run(['publish-all'])).code).toBe(2);
  });

  it('rejects broken CSV quoting', async () => {
    const taps = file('taps.csv', `${HEADER}\n"2026-01-05T08:00:00+08:00,V1\n`);
    const result = await run(['dry-run', '--table', example('fare-table-sections.json'), '--taps', taps]);
    expect(result.code).toBe(2);
    expect(result.stderr).toMatch(/invalid CSV/);
  });

  describe('without --routes', () => {
    const SECTION_TABLE = `{"currency":"CNY","flatFareFen":100,"cardTypes":{"ordinary":{"allowed":true,"ratePercent":100}},"cardTypeByCode":{"1":"ordinary"},"localIssuerPrefixes":["9900"],"lowBalanceWarningFen":0,"sectionRoutes":{"A":{"bands":[{"maxStops":2,"fareFen":100},{"maxStops":50,"fareFen":300}]}}}`;
    const ROUTES = {
      stops: ['S1', 'S2', 'S3', 'S4'].map((id, index) => ({ id, name: id, lat: 31.3, lon: 120.6 + index / 1000 })),
      routes: [{ id: 'A', shortName: 'A', longName: 'A line', patterns: [{ direction: 0, stops: ['S1', 'S2', 'S3', 'S4'] }] }],
    };

    function sectionTaps(): string {
      return file('taps.csv', `${HEADER}\n2026-01-05T08:00:00+08:00,V1,C1,ordinary,1000,A,0,S1,on\n2026-01-05T08:10:00+08:00,V1,C1,ordinary,,A,0,S4,off\n`);
    }

    function databaseWithRoutes(effectiveFrom: string): string {
      const db = join(dir, 'clearing.db');
      const repository = new ParameterRepository(db);
      try {
        const authoring = new ParameterAuthoring({ repository, signingKey: generateParameterSigningKeys().privateKey, maxEffectiveAgeMs: 10 * 365 * 86_400_000 });
        authoring.create({ kind: 'routes', body: ROUTES, effectiveFrom });
      } finally {
        repository.close();
      }
      return db;
    }

    it('uses the routes set in effect', async () => {
      const db = databaseWithRoutes('2026-01-01T00:00:00+08:00');
      const result = await run(['dry-run', '--table', file('table.json', SECTION_TABLE), '--taps', sectionTaps(), '--db', db]);
      expect(result.code).toBe(0);
      expect(rows(result.stdout).map((row) => [row.fareFen, row.promptId])).toEqual([
        ['0', 'please-tap-off'],
        ['300', 'fare-paid'],
      ]);
      expect(result.stderr).toContain('routes parameter set in effect');
    });

    it('skips a routes set not yet in effect', async () => {
      const db = databaseWithRoutes('2099-01-01T00:00:00+08:00');
      const result = await run(['dry-run', '--table', file('table.json', SECTION_TABLE), '--taps', sectionTaps(), '--db', db]);
      expect(result.code).toBe(0);
      expect(rows(result.stdout)[0]).toMatchObject({ promptId: 'stop-unknown' });
      expect(result.stderr).toContain('contains no routes parameter set in effect');
    });

    it('rejects a missing --db', async () => {
      const result = await run(['dry-run', '--table', file('table.json', SECTION_TABLE), '--taps', sectionTaps(), '--db', join(dir, 'none.db')]);
      expect(result.code).toBe(2);
      expect(result.stdout).toBe('');
    });

    it('names a --db that is no database', async () => {
      const db = file('notes.db', 'plain text, long enough to fill the header page of a database file');
      const result = await run(['dry-run', '--table', file('table.json', SECTION_TABLE), '--taps', sectionTaps(), '--db', db]);

      expect(result.code).toBe(2);
      expect(result.stdout).toBe('');
      expect(result.stderr).toContain(db);
      expect(result.stderr).toContain('file is not a database');
    });

    it('leaves the --db file unchanged', async () => {
      const db = join(dir, 'other.db');
      const other = new Database(db);
      other.exec('CREATE TABLE notes (text TEXT)');
      other.close();
      const before = readFileSync(db);

      const result = await run(['dry-run', '--table', file('table.json', SECTION_TABLE), '--taps', sectionTaps(), '--db', db]);

      expect(result.code).toBe(0);
      expect(result.stderr).toContain('contains no routes parameter set in effect');
      expect(readFileSync(db).equals(before)).toBe(true);
      expect(existsSync(`${db}-wal`)).toBe(false);
    });
  });

  it('rejects a missing GTFS folder', async () => {
    const result = await run(['dry-run', '--table', example('fare-table-sections.json'), '--taps', file('taps.csv', `${HEADER}\n`), '--routes', join(dir, 'nowhere')]);
    expect(result.code).toBe(2);
    expect(result.stderr).toMatch(/cannot read the route data/);
  });
});
