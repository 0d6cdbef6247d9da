import { type CatalogueEntry, type CipherFamily, TranslatedError, cliTextEntry } from '@busfare/shared-protocol';
import type * as Pkcs11Module from 'pkcs11js';
import type { Logger } from '../logger.js';
import type { KeyStore } from './key-store.js';

/**
 * Label of a TAC master key object in the token: `busfare-tac:{issuerId}:{family}`, or
 * `busfare-tac-test:{issuerId}:{family}` for a test key that only a bench may use.
 */
const LABEL_PATTERN = /^busfare-tac(-test)?:([0-9A-F]{16}):(des|sm4)$/;

export interface Pkcs11KeyStoreOptions {
  /** Path of the token's PKCS#11 module, for example /usr/lib/softhsm/libsofthsm2.so. */
  library: string;
  /** Label of the token that contains the keys. */
  tokenLabel: string;
  /** User PIN of the token. */
  pin: string;
  /** Accept keys labelled as test keys; only a bench sets it. */
  allowTestKeys: boolean;
  logger: Logger;
}

/** The HSM cannot be opened, or it contains keys that this back office must not use. */
export class Pkcs11KeyStoreError extends TranslatedError {
  constructor(text: CatalogueEntry) {
    super(text);
    this.name = 'Pkcs11KeyStoreError';
  }
}

/**
 * Loads the pkcs11js addon. It is an optional dependency, loaded only here, so the back office
 * installs and runs without a C++ toolchain when no HSM is configured.
 */
async function loadPkcs11js(): Promise<typeof Pkcs11Module> {
  try {
    return (await import('pkcs11js')).default as unknown as typeof Pkcs11Module;
  } catch (error) {
    throw new Pkcs11KeyStoreError(cliTextEntry('cli.hsm.addonMissing', { message: (error as Error).message }));
  }
}

interface KeyObject {
  handle: Pkcs11Module.Handle;
  test: boolean;
}

/**
 * Issuer TAC master keys held in a hardware security module through PKCS#11 (tested with SoftHSM
 * 2.6). The master keys stay in the token: it returns no key bytes (tacMasterKey() is always
 * undefined) and derives each card's TAC key inside the token with CKM_DES3_ECB over the ASN
 * factor and its complement. Only the derived card key, which opens one card, reaches this
 * process.
 * NOTE: SM4 keys are listed but cannot be used, because PKCS#11 2.40 has no standard SM4
 * mechanism and SoftHSM 2.6 implements none. Records of SM4 issuers therefore fail verification.
 */
export class Pkcs11KeyStore implements KeyStore {
  private constructor(
    private readonly pkcs11: Pkcs11Module.PKCS11,
    private readonly mechanism: number,
    private readonly session: Pkcs11Module.Handle,
    private readonly keys: ReadonlyMap<string, KeyObject>,
  ) {}

  /** Loads the module, logs in to the token and indexes its TAC key objects by label. */
  static async open(options: Pkcs11KeyStoreOptions): Promise<Pkcs11KeyStore> {
    const pkcs11js = await loadPkcs11js();
    const pkcs11 = new pkcs11js.PKCS11();
    try {
      pkcs11.load(options.library);
    } catch (error) {
      throw new Pkcs11KeyStoreError(cliTextEntry('cli.hsm.moduleUnloadable', { library: options.library, message: (error as Error).message }));
    }
    pkcs11.C_Initialize();
    try {
      const session = openUserSession(pkcs11js, pkcs11, options);
      const keys = findTacKeys(pkcs11js, pkcs11, session);
      const testKeys = [...keys].filter(([, key]) => key.test).map(([name]) => name);
      if (testKeys.length > 0 && !options.allowTestKeys) {
        throw new Pkcs11KeyStoreError(cliTextEntry('cli.hsm.testKeys', { token: options.tokenLabel, keys: testKeys.join(', ') }));
      }
      if (testKeys.length > 0) options.logger.warn({ keys: testKeys }, 'test TAC keys in the HSM: records of these issuers are bench data');
      options.logger.info({ tokenLabel: options.tokenLabel, keys: keys.size }, 'issuer TAC keys found in the HSM');
      return new Pkcs11KeyStore(pkcs11, pkcs11js.CKM_DES3_ECB, session, keys);
    } catch (error) {
      pkcs11.C_Finalize();
      throw error;
    }
  }

  tacMasterKey(): undefined {
    return undefined;
  }

  deriveCardTacKey(issuerId: string, family: CipherFamily, factor: Uint8Array): Uint8Array | undefined {
    const key = this.keys.get(keyName(issuerId, family));
    if (key === undefined || family !== 'des') return undefined;
    if (factor.length !== 8) throw new RangeError(`diversification factor must be 8 bytes, got ${factor.length}`);
    const input = Buffer.alloc(16);
    input.set(factor, 0);
    for (let index = 0; index < 8; index += 1) input[8 + index] = ~factor[index]! & 0xff;
    this.pkcs11.C_EncryptInit(this.session, { mechanism: this.mechanism }, key.handle);
    // ECB encrypts the two 8-byte blocks independently: the left and right halves of the card key.
    return new Uint8Array(this.pkcs11.C_Encrypt(this.session, input, Buffer.alloc(16)));
  }

  holdsIssuer(issuerId: string): boolean {
    const prefix = `${issuerId.toUpperCase()}:`;
    return [...this.keys.keys()].some((name) => name.startsWith(prefix));
  }

  issuerIds(): string[] {
    return [...new Set([...this.keys.keys()].map((name) => name.split(':')[0]!))].sort();
  }

  close(): void {
    try {
      this.pkcs11.C_Logout(this.session);
      this.pkcs11.C_CloseSession(this.session);
    } finally {
      this.pkcs11.C_Finalize();
    }
  }
}

export interface ImportTacKeyOptions {
  library: string;
  tokenLabel: string;
  pin: string;
  issuerId: string;
  /** 16-byte double-length 3DES key. */
  tacMasterKey: Uint8Array;
  test: boolean;
}

/**
 * Stores a 3DES TAC master key in the token as a sensitive, non-extractable secret key that can
 * only encrypt, labelled for Pkcs11KeyStore. A site runs it once per issuer key ceremony.
 */
export async function importTacMasterKey(options: ImportTacKeyOptions): Promise<void> {
  if (options.tacMasterKey.length !== 16) throw new RangeError(`TAC master key must be 16 bytes, got ${options.tacMasterKey.length}`);
  if (!/^[0-9A-Fa-f]{16}$/.test(options.issuerId)) throw new RangeError(`invalid issuer id "${options.issuerId}": expected 16 hex digits`);
  const pkcs11js = await loadPkcs11js();
  const pkcs11 = new pkcs11js.PKCS11();
  pkcs11.load(options.library);
  pkcs11.C_Initialize();
  try {
    const session = openUserSession(pkcs11js, pkcs11, options);
    const label = `busfare-tac${options.test ? '-test' : ''}:${options.issuerId.toUpperCase()}:des`;
    pkcs11.C_CreateObject(session, [
      { type: pkcs11js.CKA_CLASS, value: pkcs11js.CKO_SECRET_KEY },
      { type: pkcs11js.CKA_KEY_TYPE, value: pkcs11js.CKK_DES2 },
      { type: pkcs11js.CKA_TOKEN, value: true },
      { type: pkcs11js.CKA_PRIVATE, value: true },
      { type: pkcs11js.CKA_SENSITIVE, value: true },
      { type: pkcs11js.CKA_EXTRACTABLE, value: false },
      { type: pkcs11js.CKA_ENCRYPT, value: true },
      { type: pkcs11js.CKA_DECRYPT, value: false },
      { type: pkcs11js.CKA_LABEL, value: label },
      { type: pkcs11js.CKA_VALUE, value: Buffer.from(options.tacMasterKey) },
    ]);
    pkcs11.C_Logout(session);
    pkcs11.C_CloseSession(session);
  } finally {
    pkcs11.C_Finalize();
  }
}

type Pkcs11Constants = typeof Pkcs11Module;

function openUserSession(pkcs11js: Pkcs11Constants, pkcs11: Pkcs11Module.PKCS11, options: Pick<Pkcs11KeyStoreOptions, 'tokenLabel' | 'pin'>): Pkcs11Module.Handle {
  const slot = pkcs11.C_GetSlotList(true).find((candidate) => pkcs11.C_GetTokenInfo(candidate).label.trim() === options.tokenLabel);
  if (slot === undefined) throw new Pkcs11KeyStoreError(cliTextEntry('cli.hsm.tokenNotFound', { token: options.tokenLabel }));
  const session = pkcs11.C_OpenSession(slot, pkcs11js.CKF_SERIAL_SESSION | pkcs11js.CKF_RW_SESSION);
  try {
    pkcs11.C_Login(session, pkcs11js.CKU_USER, options.pin);
  } catch (error) {
    pkcs11.C_CloseSession(session);
    // The native message names the PKCS#11 return code (CKR_PIN_INCORRECT and the like), never the PIN.
    throw new Pkcs11KeyStoreError(cliTextEntry('cli.hsm.loginFailed', { token: options.tokenLabel, message: (error as Error).message }));
  }
  return session;
}

function findTacKeys(pkcs11js: Pkcs11Constants, pkcs11: Pkcs11Module.PKCS11, session: Pkcs11Module.Handle): Map<string, KeyObject> {
  const keys = new Map<string, KeyObject>();
  pkcs11.C_FindObjectsInit(session, [{ type: pkcs11js.CKA_CLASS, value: pkcs11js.CKO_SECRET_KEY }]);
  try {
    for (let handle = pkcs11.C_FindObjects(session); handle !== null; handle = pkcs11.C_FindObjects(session)) {
      const [label] = pkcs11.C_GetAttributeValue(session, handle, [{ type: pkcs11js.CKA_LABEL }]);
      const match = LABEL_PATTERN.exec(label?.value?.toString() ?? '');
      if (!match) continue;
      keys.set(keyName(match[2]!, match[3] as CipherFamily), { handle, test: match[1] !== undefined });
    }
  } finally {
    pkcs11.C_FindObjectsFinal(session);
  }
  return keys;
}

function keyName(issuerId: string, family: CipherFamily): string {
  return `${issuerId.toUpperCase()}:${family}`;
}
