import { cliTextEntry } from '@busfare/shared-protocol';
import type { BackOfficeConfig } from '../config.js';
import type { Logger } from '../logger.js';
import { loadKeyFile } from './file-key-store.js';
import { type KeyStore, MemoryKeyStore } from './key-store.js';
import { Pkcs11KeyStore, Pkcs11KeyStoreError } from './pkcs11-key-store.js';

/**
 * Opens the key store the config names: a PKCS#11 token (`pkcs11`), a key file (`keys`), or
 * none. Test keys are rejected unless `security.allowTestKeys` is set.
 */
export async function openConfiguredKeyStore(config: BackOfficeConfig, logger: Logger, environment: NodeJS.ProcessEnv = process.env): Promise<KeyStore> {
  const { allowTestKeys } = config.security;
  if (config.pkcs11 !== undefined) {
    const pin = environment[config.pkcs11.pinVariable];
    if (pin === undefined || pin === '') throw new Pkcs11KeyStoreError(cliTextEntry('cli.hsm.pinNotSet', { variable: config.pkcs11.pinVariable }));
    return Pkcs11KeyStore.open({ library: config.pkcs11.library, tokenLabel: config.pkcs11.tokenLabel, pin, allowTestKeys, logger });
  }
  if (config.keys !== undefined) return loadKeyFile(config.keys, logger, { allowTestKeys });
  logger.warn('no key file or HSM configured: only records of out-of-town T-Union issuers can clear');
  return new MemoryKeyStore([]);
}
