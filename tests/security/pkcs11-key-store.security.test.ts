import { execFileSync } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { asnFactor, diversifyKey, fromHex, toHex } from '@busfare/shared-protocol';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { TacVerifier, createLogger, parseConfig } from '@busfare/backoffice';
import { openConfiguredKeyStore } from '../../backoffice/src/keys/open-key-store.js';
import { Pkcs11KeyStore, Pkcs11KeyStoreError, importTacMasterKey } from '../../backoffice/src/keys/pkcs11-key-store.js';
import { LOCAL_ISSUER, LOCAL_ISSUER_PREFIX, TEST_DES_MASTER_KEY, fakeRecord } from '../../backoffice/src/testing/fake-terminal.js';

const LIBRARY = '/usr/lib/softhsm/libsofthsm2.so';
const TOKEN = 'busfare-security';
const PIN = '246810';
const PRODUCTION_ISSUER = '42000001FFFFFFFF';
const PRODUCTION_KEY = 'F0E1D2C3B4A5968778695A4B3C2D1E0F';

let directory: string;

/** Creates a logger that keeps every line, to check that no key reaches a log. */
function recordingLogger(): { logger: ReturnType<typeof createLogger>; lines: string[] } {
  const lines: string[] = [];
  const logger = createLogger('test', 'info');
  const record = (level: string) => (object: unknown, message?: string) => lines.push(`${level} ${JSON.stringify(object)} ${message ?? ''}`);
  return { logger: Object.assign(Object.create(logger), { info: record('info'), warn: record('warn'), error: record('error') }), lines };
}

describe.skipIf(!existsSync(LIBRARY))('PKCS#11 key store on SoftHSM2', () => {
  beforeAll(async () => {
    directory = mkdtempSync(join(tmpdir(), 'busfare-pkcs11-security-'));
    mkdirSync(join(directory, 'tokens'));
    const configPath = join(directory, 'softhsm2.conf');
    writeFileSync(configPath, `directories.tokendir = ${join(directory, 'tokens')}\nobjectstore.backend = file\nlog.level = ERROR\n`);
    process.env.SOFTHSM2_CONF = configPath;
    execFileSync('softhsm2-util', ['--init-token', '--free', '--label', TOKEN, '--so-pin', '13579', '--pin', PIN], { stdio: 'ignore' });
    await importTacMasterKey({ library: LIBRARY, tokenLabel: TOKEN, pin: PIN, issuerId: LOCAL_ISSUER, tacMasterKey: fromHex(TEST_DES_MASTER_KEY), test: true });
    await importTacMasterKey({ library: LIBRARY, tokenLabel: TOKEN, pin: PIN, issuerId: PRODUCTION_ISSUER, tacMasterKey: fromHex(PRODUCTION_KEY), test: false });
  });

  afterAll(() => {
    if (directory) rmSync(directory, { recursive: true, force: true });
  });

  it('derives card keys inside the token', async () => {
    const { logger, lines } = recordingLogger();
    const store = await Pkcs11KeyStore.open({ library: LIBRARY, tokenLabel: TOKEN, pin: PIN, allowTestKeys: true, logger });
    try {
      const factor = asnFactor('99000001000000001234');
      const expected = diversifyKey('des', fromHex(TEST_DES_MASTER_KEY), factor);

      expect(toHex(store.deriveCardTacKey(LOCAL_ISSUER, 'des', factor) ?? new Uint8Array())).toBe(toHex(expected));
      expect(store.tacMasterKey()).toBeUndefined();
      expect(store.deriveCardTacKey('11110000FFFFFFFF', 'des', factor)).toBeUndefined();
      expect(store.issuerIds()).toEqual([PRODUCTION_ISSUER, LOCAL_ISSUER].sort());
      expect(store.holdsIssuer(PRODUCTION_ISSUER)).toBe(true);
      expect(lines.join('\n')).not.toContain(TEST_DES_MASTER_KEY);
      expect(lines.join('\n')).not.toContain(PRODUCTION_KEY);
    } finally {
      store.close();
    }
  });

  it('verifies TACs through the token', async () => {
    const store = await Pkcs11KeyStore.open({ library: LIBRARY, tokenLabel: TOKEN, pin: PIN, allowTestKeys: true, logger: recordingLogger().logger });
    try {
      const verifier = new TacVerifier({ keys: store, localIssuerPrefixes: [LOCAL_ISSUER_PREFIX] });

      expect(verifier.verify(fakeRecord({ sequence: 1 }))).toEqual({ outcome: 'verified' });
      expect(verifier.verify(fakeRecord({ sequence: 2, tac: 'DEADBEEF' }))).toMatchObject({ outcome: 'failed' });
    } finally {
      store.close();
    }
  });

  it('rejects test keys outside a bench', async () => {
    await expect(Pkcs11KeyStore.open({ library: LIBRARY, tokenLabel: TOKEN, pin: PIN, allowTestKeys: false, logger: recordingLogger().logger })).rejects.toThrow(
      /contains test keys \(99000001FFFFFFFF:des\), which are accepted only on a bench/,
    );
  });

  it('keeps master keys non-extractable', async () => {
    const pkcs11js = (await import('pkcs11js')).default;
    const pkcs11 = new pkcs11js.PKCS11();
    pkcs11.load(LIBRARY);
    pkcs11.C_Initialize();
    try {
      const slot = pkcs11.C_GetSlotList(true).find((candidate) => pkcs11.C_GetTokenInfo(candidate).label.trim() === TOKEN)!;
      const session = pkcs11.C_OpenSession(slot, pkcs11js.CKF_SERIAL_SESSION);
      pkcs11.C_Login(session, pkcs11js.CKU_USER, PIN);
      pkcs11.C_FindObjectsInit(session, [{ type: pkcs11js.CKA_LABEL, value: `busfare-tac:${PRODUCTION_ISSUER}:des` }]);
      const handle = pkcs11.C_FindObjects(session);
      pkcs11.C_FindObjectsFinal(session);

      expect(handle).not.toBeNull();
      expect(() => pkcs11.C_GetAttributeValue(session, handle!, [{ type: pkcs11js.CKA_VALUE }])).toThrow(/CKR_ATTRIBUTE_SENSITIVE/);
      const [extractable] = pkcs11.C_GetAttributeValue(session, handle!, [{ type: pkcs11js.CKA_EXTRACTABLE }]);
      expect(extractable?.value?.[0]).toBe(0);
    } finally {
      pkcs11.C_Finalize();
    }
  });

  it('rejects a wrong PIN without echoing it', async () => {
    const attempt = Pkcs11KeyStore.open({ library: LIBRARY, tokenLabel: TOKEN, pin: '999999', allowTestKeys: true, logger: recordingLogger().logger });

    await expect(attempt).rejects.toThrow(Pkcs11KeyStoreError);
    await expect(attempt).rejects.toThrow(/login to token "busfare-security" failed: CKR_PIN_INCORRECT/);
    await expect(attempt).rejects.not.toThrow(/999999/);
  });

  it('rejects an unknown token label', async () => {
    await expect(Pkcs11KeyStore.open({ library: LIBRARY, tokenLabel: 'absent', pin: PIN, allowTestKeys: true, logger: recordingLogger().logger })).rejects.toThrow(/no PKCS#11 token labelled "absent"/);
  });

  it('opens the configured token with the PIN variable', async () => {
    const config = parseConfig({ pkcs11: { library: LIBRARY, tokenLabel: TOKEN, pinVariable: 'TEST_HSM_PIN' }, security: { allowTestKeys: true } });

    await expect(openConfiguredKeyStore(config, recordingLogger().logger, {})).rejects.toThrow(/environment variable TEST_HSM_PIN with the HSM user PIN is not set/);
    const store = await openConfiguredKeyStore(config, recordingLogger().logger, { TEST_HSM_PIN: PIN });
    try {
      expect(store.holdsIssuer(LOCAL_ISSUER)).toBe(true);
    } finally {
      store.close?.();
    }
  });
});
