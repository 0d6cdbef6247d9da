import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import Database from 'better-sqlite3';
import { generateParameterSigningKeys } from '@busfare/shared-protocol';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { ParameterAuthoring } from './authoring.js';
import { defaultFareTable } from './default-fare-table.js';
import { terminalParameterStatus } from './fleet-parameter-status.js';
import { ParameterRepository } from './parameter-repository.js';

const NOW = new Date('2026-01-05T08:00:00+08:00');

describe('terminalParameterStatus', () => {
  let dir: string;
  let db: string;
  let repository: ParameterRepository;

  beforeEach(() => {
    dir = mkdtempSync(join(tmpdir(), 'busfare-fleet-params-'));
    db = join(dir, 'office.db');
    repository = new ParameterRepository(db);
    const authoring = new ParameterAuthoring({ repository, signingKey: generateParameterSigningKeys().privateKey, now: () => NOW });
    authoring.create({ kind: 'fare-table', body: defaultFareTable(['3104']), version: 1, effectiveFrom: '2026-01-04T00:00:00+08:00' });
    authoring.create({ kind: 'fare-table', body: defaultFareTable(['3104']), version: 2, effectiveFrom: '2026-01-06T00:00:00+08:00' });
    for (const publication of repository.unpublished()) repository.markPublished(publication.set, NOW);

    const status = new Database(db);
    status.exec('CREATE TABLE terminal_status (terminal_id TEXT PRIMARY KEY, state TEXT NOT NULL, at TEXT NOT NULL, status_json TEXT NOT NULL, received_at TEXT NOT NULL)');
    const insert = status.prepare('INSERT INTO terminal_status VALUES (?, ?, ?, ?, ?)');
    const row = (terminalId: string, state: string, parameters?: unknown) =>
      insert.run(terminalId, state, NOW.toISOString(), JSON.stringify({ schema: 'busfare.status/1', terminalId, state, at: NOW.toISOString(), ...(parameters ? { parameters } : {}) }), NOW.toISOString());
    row('T1', 'online', { active: { 'fare-table': 1 }, pending: { 'fare-table': 2 } });
    row('T2', 'online', { active: { 'fare-table': 1 }, pending: {} });
    row('T3', 'online', { active: {}, pending: { 'fare-table': 2 } });
    row('T4', 'offline');
    status.close();
  });

  afterEach(() => {
    repository.close();
    rmSync(dir, { recursive: true, force: true });
  });

  it('finds the terminals that are behind', () => {
    const statuses = terminalParameterStatus(db, repository, NOW);
    expect(statuses.map((status) => [status.terminalId, status.behind])).toEqual([
      ['T1', false],
      ['T2', true],
      ['T3', true],
      ['T4', null],
    ]);
    expect(statuses[1]!.kinds['fare-table']).toEqual({ active: 1, pending: null, expectedActive: 1, newest: 2, behind: true });
    expect(statuses[2]!.kinds['fare-table']).toEqual({ active: null, pending: 2, expectedActive: 1, newest: 2, behind: true });
  });

  it('ignores sets not yet published', () => {
    new ParameterAuthoring({ repository, signingKey: generateParameterSigningKeys().privateKey, now: () => NOW }).create({ kind: 'fare-table', body: defaultFareTable(['3104']), version: 3 });
    expect(terminalParameterStatus(db, repository, NOW)[0]!.behind).toBe(false);
  });
});
