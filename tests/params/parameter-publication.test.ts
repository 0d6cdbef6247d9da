import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { type BackOffice, backOfficeConfigSchema, defaultFareTable, startBackOffice, terminalParameterStatus } from '@busfare/backoffice';
import { bigIntToAsn, generateParameterSigningKeys } from '@busfare/shared-protocol';
import { ParameterStore, SqliteTransactionStore, TerminalUplink } from '@busfare/terminal';
import { waitFor } from '@busfare/simulators';
import pino from 'pino';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';

const logger = pino({ level: 'silent' });
const KEYS = generateParameterSigningKeys();
const ENTRIES = 140_000;


describe('parameter publication', () => {
  let dir: string;
  let office: BackOffice | undefined;
  let uplink: TerminalUplink | undefined;
  let store: ParameterStore | undefined;
  let outbox: SqliteTransactionStore | undefined;

  beforeEach(() => {
    dir = mkdtempSync(join(tmpdir(), 'busfare-publication-'));
  });

  afterEach(async () => {
    await uplink?.stop();
    store?.close();
    outbox?.close();
    await office?.stop();
    uplink = office = store = outbox = undefined;
    rmSync(dir, { recursive: true, force: true });
  });

  async function startTerminal(office: BackOffice, password: string): Promise<void> {
    store = ParameterStore.open(join(dir, 'T001-parameters.db'), { publicKey: KEYS.publicKey, logger });
    outbox = SqliteTransactionStore.open(join(dir, 'T001-transactions.db'));
    uplink = new TerminalUplink({ terminalId: 'T001', vehicleId: 'V001', brokerUrl: office.brokerUrl, username: 'T001', password, store: outbox, logger, softwareVersion: 'test', parameters: store, reconnectPeriodMs: 200 });
    uplink.start();
  }

  async function stopTerminal(): Promise<void> {
    await uplink?.stop();
    store?.close();
    outbox?.close();
    uplink = store = outbox = undefined;
  }

  it('delivers packed blacklists and deltas and reports who is behind', async () => {
    const config = backOfficeConfigSchema.parse({ db: join(dir, 'office.db'), mqtt: { port: 0 }, http: { port: 0 }, localIssuerPrefixes: ['3104'] });
    office = await startBackOffice(config, { logger, parameterSigningKey: KEYS.privateKey });
    const authoring = office.parameters.authoring!;
    const past = new Date(Date.now() - 60_000).toISOString();
    await office.publishFareTable({ version: 1, body: defaultFareTable(['3104']), effectiveFrom: past });
    const entries = Array.from({ length: ENTRIES }, (_, index) => bigIntToAsn(BigInt(index) * 1_000_003n + 17n));
    const full = await office.parameters.publish({ kind: 'blacklist', body: { mode: 'full', entries }, effectiveFrom: past });
    expect((full.body as { packed?: { chunks: unknown[] } }).packed?.chunks).toHaveLength(3);

    const password = await office.credentials.add('T001');
    await startTerminal(office, password);
    await waitFor(() => store!.versions(new Date()).active.blacklist === full.version, 20_000, 'the packed list on the terminal');
    expect(store!.activeBlacklist(new Date()).size).toBe(ENTRIES);
    expect(store!.blacklistLookup().has(entries[99_999]!)).toBe(true);

    authoring.changeBlacklist(['00000000000000AB'], [entries[5]!]);
    await office.parameters.publish({ kind: 'fare-table', body: defaultFareTable(['3104']), effectiveFrom: new Date(Date.now() + 3_600_000).toISOString() });
    await waitFor(() => store!.versions(new Date()).pending['fare-table'] === 2 && store!.versions(new Date()).active.blacklist === full.version + 1, 20_000, 'the delta and the pending fare table');
    expect(store!.blacklistLookup().has('00000000000000AB')).toBe(true);
    expect(store!.blacklistLookup().has(entries[5]!)).toBe(false);

    await waitFor(() => terminalParameterStatus(config.db, office!.parameters.repository, new Date()).some((status) => status.kinds['fare-table']?.pending === 2), 20_000, 'the status with the pending version');
    const current = terminalParameterStatus(config.db, office.parameters.repository, new Date());
    expect(current).toHaveLength(1);
    expect(current[0]!.behind).toBe(false);
    expect(current[0]!.kinds.blacklist).toEqual({ active: full.version + 1, pending: null, expectedActive: full.version + 1, newest: full.version + 1, behind: false });

    await stopTerminal();
    authoring.changeBlacklist(['00000000000000AC'], []);
    await office.parameters.publish({ kind: 'routes', body: { stops: [], routes: [] } });
    await waitFor(() => terminalParameterStatus(config.db, office!.parameters.repository, new Date())[0]?.state === 'offline', 20_000, 'the offline status');
    const offline = terminalParameterStatus(config.db, office.parameters.repository, new Date())[0]!;
    expect(offline.behind).toBeNull();
    expect(offline.kinds.routes).toEqual({ active: null, pending: null, expectedActive: 1, newest: 1, behind: null });

    await startTerminal(office, password);
    await waitFor(() => store!.blacklistLookup().has('00000000000000AC') && store!.versions(new Date()).active.routes === 1, 20_000, 'the terminal to catch up after a restart');
    expect(store!.blacklistLookup().has(entries[5]!)).toBe(false);
  });

  it('publishes the retained sets again after a restart', async () => {
    const config = backOfficeConfigSchema.parse({ db: join(dir, 'office.db'), mqtt: { port: 0 }, http: { port: 0 }, localIssuerPrefixes: ['3104'] });
    office = await startBackOffice(config, { logger, parameterSigningKey: KEYS.privateKey });
    await office.publishFareTable({ version: 1, body: defaultFareTable(['3104']), effectiveFrom: new Date(Date.now() - 60_000).toISOString() });
    await office.stop();

    office = await startBackOffice(config, { logger, parameterSigningKey: KEYS.privateKey });
    await office.publishFareTable({ version: 1, body: defaultFareTable(['3104']) });
    await startTerminal(office, await office.credentials.add('T001', { replace: true }));
    await waitFor(() => store!.activeFareTable(new Date())?.version === 1, 20_000, 'the fare table from the restarted back office');
  });
});
