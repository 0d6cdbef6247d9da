import { mkdtempSync, rmSync, statSync, writeFileSync, chmodSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { type ParameterPublishing, SigningKeyError, backOfficeConfigSchema, buildSignedParameterSet, defaultFareTable, loadSigningKey, startBackOffice, startEmbeddedBroker, writeSigningKeyPair, type BackOffice, publishParameterSet } from '@busfare/backoffice';
import { PARAMETER_SET_SCHEMA, canonicalJson, generateParameterSigningKeys, sha256Hex, signParameterSet, type ParameterSet } from '@busfare/shared-protocol';
import { MemoryDriverScreen, ParameterStore, SqliteTransactionStore, TerminalUplink, loadPinnedParameterKey } from '@busfare/terminal';
import { connectAsync } from 'mqtt';
import { waitFor } from '@busfare/simulators';
import pino from 'pino';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';

const logger = pino({ level: 'silent' });
const OFFICE_KEYS = generateParameterSigningKeys();
const ROGUE_KEYS = generateParameterSigningKeys();
const CARD = '0000000000000042';
const FARE_TABLE = defaultFareTable(['3104']);

function unsignedFareTable(version: number, flatFareFen = 200): Omit<ParameterSet, 'signature'> {
  const body = { ...FARE_TABLE, flatFareFen };
  return { schema: PARAMETER_SET_SCHEMA, kind: 'fare-table', version, effectiveFrom: new Date(Date.now() - 60_000).toISOString(), publishedAt: new Date().toISOString(), bodySha256: sha256Hex(canonicalJson(body)), body };
}


describe('parameter signatures', () => {
  let dir: string;
  let screen: MemoryDriverScreen;
  let store: ParameterStore;

  beforeEach(() => {
    dir = mkdtempSync(join(tmpdir(), 'busfare-params-security-'));
    screen = new MemoryDriverScreen();
    store = ParameterStore.open(join(dir, 'parameters.db'), { publicKey: OFFICE_KEYS.publicKey, driverScreen: screen });
    expect(store.accept(signParameterSet(unsignedFareTable(1), OFFICE_KEYS.privateKey), { kind: 'fare-table' })).toEqual({ ok: true });
    const blacklist = buildSignedParameterSet('blacklist', 1, { mode: 'full', entries: [CARD] }, new Date(Date.now() - 60_000).toISOString(), OFFICE_KEYS.privateKey);
    expect(store.accept(blacklist, { kind: 'blacklist' })).toEqual({ ok: true });
  });

  afterEach(() => {
    store.close();
    rmSync(dir, { recursive: true, force: true });
  });

  function expectRejectedWithNothingLost(raw: unknown, kind: string, expected: RegExp): void {
    const result = store.accept(raw, { kind });
    expect(result.ok).toBe(false);
    const problems = result.ok ? [] : result.problems;
    expect(problems.some((problem) => expected.test(problem)), `${expected} in ${JSON.stringify(problems)}`).toBe(true);
    expect(store.activeFareTable(new Date())?.version).toBe(1);
    expect(store.activeFareTable(new Date())?.body.flatFareFen).toBe(200);
    expect(store.blacklistLookup().has(CARD)).toBe(true);
    expect(screen.alerts.has('parameters-rejected')).toBe(true);
  }

  it('rejects an unsigned set', () => {
    expectRejectedWithNothingLost(unsignedFareTable(2, 0), 'fare-table', /^signature: missing; terminals accept only sets signed by the back office$/);
  });

  it('rejects a set changed after signing', () => {
    const signed = signParameterSet(unsignedFareTable(2), OFFICE_KEYS.privateKey);
    const changed = { ...signed, effectiveFrom: new Date(Date.now() + 3_600_000).toISOString() };
    expectRejectedWithNothingLost(changed, 'fare-table', /^signature\.value: does not verify against the pinned key/);
  });

  it('rejects a changed body with a matching hash', () => {
    const signed = signParameterSet(unsignedFareTable(2), OFFICE_KEYS.privateKey);
    const body = { ...FARE_TABLE, flatFareFen: 0 };
    const forged = { ...signed, body, bodySha256: sha256Hex(canonicalJson(body)) };
    expectRejectedWithNothingLost(forged, 'fare-table', /^signature\.value: does not verify/);
  });

  it('rejects a set signed by another key', () => {
    expectRejectedWithNothingLost(signParameterSet(unsignedFareTable(2, 0), ROGUE_KEYS.privateKey), 'fare-table', /^signature\.keyId: signed by key ".*", but this terminal trusts only key/);
  });

  it('rejects another key that claims the pinned key id', () => {
    const rogue = signParameterSet(unsignedFareTable(2, 0), ROGUE_KEYS.privateKey);
    const claimed = signParameterSet(unsignedFareTable(2, 0), OFFICE_KEYS.privateKey).signature.keyId;
    expectRejectedWithNothingLost({ ...rogue, signature: { ...rogue.signature, keyId: claimed } }, 'fare-table', /^signature\.value: does not verify/);
  });

  it('rejects another signature algorithm', () => {
    const signed = signParameterSet(unsignedFareTable(2), OFFICE_KEYS.privateKey);
    expectRejectedWithNothingLost({ ...signed, signature: { ...signed.signature, algorithm: 'none' } }, 'fare-table', /^signature\.algorithm: expected "ed25519", got "none"/);
  });

  it('rejects a malformed signature value', () => {
    const signed = signParameterSet(unsignedFareTable(2), OFFICE_KEYS.privateKey);
    expectRejectedWithNothingLost({ ...signed, signature: { ...signed.signature, value: 'AAAA' } }, 'fare-table', /^signature\.value: expected a 64-byte Ed25519 signature in base64/);
  });

  it('refuses to clear the blacklist with a rogue set', () => {
    const cleared = buildSignedParameterSet('blacklist', 2, { mode: 'full', entries: [] }, new Date().toISOString(), ROGUE_KEYS.privateKey);
    expectRejectedWithNothingLost(cleared, 'blacklist', /^signature\.keyId:/);
    const removal = buildSignedParameterSet('blacklist', 2, { mode: 'delta', baseVersion: 1, remove: [CARD] }, new Date().toISOString(), ROGUE_KEYS.privateKey);
    expectRejectedWithNothingLost(removal, 'blacklist-delta', /^signature\.keyId:/);
  });
});

describe('rogue broker', () => {
  let dir: string;
  let office: BackOffice | undefined;
  let rogue: Awaited<ReturnType<typeof startEmbeddedBroker>> | undefined;
  let uplink: TerminalUplink | undefined;
  const closers: (() => void)[] = [];

  beforeEach(() => {
    dir = mkdtempSync(join(tmpdir(), 'busfare-rogue-broker-'));
  });

  afterEach(async () => {
    await uplink?.stop();
    await office?.stop();
    await rogue?.close();
    for (const close of closers.splice(0)) close();
    uplink = office = rogue = undefined;
    rmSync(dir, { recursive: true, force: true });
  });

  it('cannot push a fare table or clear the blacklist', async () => {
    const config = backOfficeConfigSchema.parse({ db: join(dir, 'office.db'), mqtt: { port: 0 }, http: { port: 0 }, localIssuerPrefixes: ['3104'] });
    office = await startBackOffice(config, { logger, parameterSigningKey: OFFICE_KEYS.privateKey });
    const parameters: ParameterPublishing = office.parameters;
    await office.publishFareTable({ version: 1, body: FARE_TABLE, effectiveFrom: new Date(Date.now() - 60_000).toISOString() });
    await parameters.publish({ kind: 'blacklist', body: { mode: 'full', entries: [CARD] }, effectiveFrom: new Date(Date.now() - 60_000).toISOString() });

    const screen = new MemoryDriverScreen();
    const store = ParameterStore.open(join(dir, 'T001-parameters.db'), { publicKey: OFFICE_KEYS.publicKey, driverScreen: screen, logger });
    const outbox = SqliteTransactionStore.open(join(dir, 'T001-transactions.db'));
    closers.push(() => outbox.close(), () => store.close());
    const connect = (brokerUrl: string, password?: string) =>
      new TerminalUplink({ terminalId: 'T001', vehicleId: 'V001', brokerUrl, username: 'T001', ...(password ? { password } : {}), store: outbox, logger, softwareVersion: 'test', parameters: store, reconnectPeriodMs: 200 });
    uplink = connect(office.brokerUrl, await office.credentials.add('T001'));
    uplink.start();
    await waitFor(() => store.versions(new Date()).active['fare-table'] === 1 && store.blacklistLookup().has(CARD), 10_000, 'the signed sets');
    await uplink.stop();

    rogue = await startEmbeddedBroker({ port: 0, host: '127.0.0.1', logger });
    const attacker = await connectAsync(rogue.url, { protocolVersion: 4, clientId: 'attacker', reconnectPeriod: 0 });
    const forgedFare = buildSignedParameterSet('fare-table', 9, { ...FARE_TABLE, flatFareFen: 0 }, new Date().toISOString(), ROGUE_KEYS.privateKey);
    const emptyList = buildSignedParameterSet('blacklist', 9, { mode: 'full', entries: [] }, new Date().toISOString(), ROGUE_KEYS.privateKey);
    await publishParameterSet(attacker, forgedFare);
    await publishParameterSet(attacker, emptyList);
    const unsigned = { ...emptyList, version: 10 } as Record<string, unknown>;
    delete unsigned.signature;
    await attacker.publishAsync('busfare/v1/parameters/blacklist', JSON.stringify(unsigned), { qos: 1, retain: true });
    await attacker.endAsync();

    uplink = connect(rogue.url);
    uplink.start();
    await waitFor(() => store.openRejections().length > 0 && screen.alerts.has('parameters-rejected'), 10_000, 'the forged sets to be rejected');
    await new Promise((resolve) => setTimeout(resolve, 300));

    expect(store.versions(new Date()).active).toEqual({ 'fare-table': 1, blacklist: 1 });
    expect(store.activeFareTable(new Date())?.body.flatFareFen).toBe(FARE_TABLE.flatFareFen);
    expect(store.blacklistLookup().has(CARD)).toBe(true);
    const problems = store.openRejections().flatMap((rejection) => rejection.problems);
    expect(problems.some((problem) => problem.startsWith('signature.keyId:'))).toBe(true);
  });
});

describe('signing key file', () => {
  let dir: string;

  beforeEach(() => {
    dir = mkdtempSync(join(tmpdir(), 'busfare-signing-key-'));
  });

  afterEach(() => {
    rmSync(dir, { recursive: true, force: true });
  });

  it('is written with mode 0600 and pinned by terminals', () => {
    const privatePath = join(dir, 'params.key');
    const publicPath = join(dir, 'params.pub');
    const { keyId } = writeSigningKeyPair(privatePath, publicPath);
    expect(statSync(privatePath).mode & 0o777).toBe(0o600);

    const set = buildSignedParameterSet('fare-table', 1, FARE_TABLE, new Date().toISOString(), loadSigningKey(privatePath));
    expect(set.signature?.keyId).toBe(keyId);
    const store = ParameterStore.open(join(dir, 'parameters.db'), { publicKey: loadPinnedParameterKey(publicPath) });
    try {
      expect(store.accept(set, { kind: 'fare-table' })).toEqual({ ok: true });
    } finally {
      store.close();
    }
  });

  it('is not overwritten', () => {
    const privatePath = join(dir, 'params.key');
    writeSigningKeyPair(privatePath, join(dir, 'params.pub'));
    expect(() => writeSigningKeyPair(privatePath, join(dir, 'other.pub'))).toThrow(SigningKeyError);
  });

  it('is refused when others can read it', () => {
    const privatePath = join(dir, 'params.key');
    writeSigningKeyPair(privatePath, join(dir, 'params.pub'));
    chmodSync(privatePath, 0o644);
    expect(() => loadSigningKey(privatePath)).toThrow(/mode 0644 lets other users read it; run "chmod 600/);
  });

  it('is refused when it holds another key type', () => {
    const privatePath = join(dir, 'params.key');
    writeFileSync(privatePath, '-----BEGIN PRIVATE KEY-----\nAAAA\n-----END PRIVATE KEY-----\n', { mode: 0o600 });
    expect(() => loadSigningKey(privatePath)).toThrow(SigningKeyError);
  });

  it('rejects a terminal key file without a public key', () => {
    writeFileSync(join(dir, 'bad.pub'), 'not a key');
    expect(() => loadPinnedParameterKey(join(dir, 'bad.pub'))).toThrow(/invalid pinned parameter key/);
  });
});
