import type { EventEmitter } from 'node:events';

/** The parts of an nfc-pcsc `Reader` (0.8) the adapters use. */
export interface NfcPcscReader extends EventEmitter {
  readonly name: string;
  autoProcessing: boolean;
  /** Set while nfc-pcsc holds a card connection; `protocol` is SCARD_PROTOCOL_T0 (1) or T1 (2). */
  readonly connection: { type: number; protocol: number } | null;
  readonly card: { atr?: Buffer } | null;
  transmit(data: Buffer, responseMaxLength: number): Promise<Buffer>;
}

/** An nfc-pcsc `NFC` object: one PC/SC context that emits 'reader' for every reader pcscd lists. */
export interface NfcPcscContext extends EventEmitter {
  close(): void;
}

export interface NfcPcscModule {
  NFC: new () => NfcPcscContext;
  /** Wraps a raw `@pokusew/pcsclite` CardReader; unit tests pass a fake one. */
  Reader: new (reader: unknown) => NfcPcscReader;
}

/** nfc-pcsc or its native addon cannot be loaded, so PC/SC readers are unavailable. */
export class PcscUnavailableError extends Error {
  constructor(message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.name = 'PcscUnavailableError';
  }
}

let loaded: Promise<NfcPcscModule> | undefined;

/**
 * Loads nfc-pcsc, an optional dependency, on first use. Only the PC/SC adapters call this, so a
 * terminal with another reader runs without nfc-pcsc and libpcsclite.
 */
export function loadNfcPcsc(): Promise<NfcPcscModule> {
  loaded ??= importNfcPcsc();
  return loaded;
}

async function importNfcPcsc(): Promise<NfcPcscModule> {
  // A variable specifier keeps bundlers and tsc from resolving the optional package at build time.
  const specifier = 'nfc-pcsc';
  try {
    const module = (await import(specifier)) as Partial<NfcPcscModule> & { default?: Partial<NfcPcscModule> };
    const NFC = module.NFC ?? module.default?.NFC;
    const Reader = module.Reader ?? module.default?.Reader;
    if (!NFC || !Reader) throw new Error('the package does not export NFC and Reader');
    return { NFC, Reader };
  } catch (error) {
    loaded = undefined;
    throw new PcscUnavailableError(
      `cannot load nfc-pcsc for the PC/SC reader: ${(error as Error).message}. ` +
        'Install libpcsclite-dev (Debian: apt-get install libpcsclite-dev pcscd), then run "npm rebuild @pokusew/pcsclite" or reinstall nfc-pcsc.',
      { cause: error },
    );
  }
}
