import { createHash } from 'node:crypto';
import {
  type CipherFamily,
  TX_BATCH_SCHEMA,
  type TransactionRecord,
  algorithmIdOf,
  asnFactor,
  computeTac,
  diversifyKey,
  formatCardDateTime,
  fromHex,
  toHex,
} from '@busfare/shared-protocol';
import { type IssuerKeyEntry, MemoryKeyStore } from '../keys/key-store.js';

/** Test issuers and TAC master keys. They protect nothing and must never reach a real card. */
export const LOCAL_ISSUER_PREFIX = '9900';
export const LOCAL_ISSUER = '99000001FFFFFFFF';
export const LOCAL_SM4_ISSUER = '99000002FFFFFFFF';
export const OUT_OF_TOWN_ISSUER = '12340000FFFFFFFF';
export const TEST_DES_MASTER_KEY = '00112233445566778899AABBCCDDEEFF';
export const TEST_SM4_MASTER_KEY = '0F1E2D3C4B5A69788796A5B4C3D2E1F0';

export const TEST_KEY_ENTRIES: IssuerKeyEntry[] = [
  { issuerId: LOCAL_ISSUER, algorithm: 'des', tacMasterKey: fromHex(TEST_DES_MASTER_KEY), test: true },
  { issuerId: LOCAL_SM4_ISSUER, algorithm: 'sm4', tacMasterKey: fromHex(TEST_SM4_MASTER_KEY), test: true },
];

export function testKeyStore(): MemoryKeyStore {
  return new MemoryKeyStore(TEST_KEY_ENTRIES);
}

export interface FakeRecordOptions {
  sequence: number;
  /**
   * The sending terminal. With it the default card number and the PSAM terminal number are that
   * terminal's own, so batches of several terminals never carry the same card evidence, which the
   * back office's replay checks reject.
   */
  terminalId?: string;
  kind?: TransactionRecord['kind'];
  issuerId?: string;
  family?: CipherFamily;
  asn?: string;
  amountFen?: number;
  occurredAt?: Date;
  resolvesSequence?: number;
  outcome?: 'debited' | 'not-debited';
  /** Replaces the computed TAC (to forge one). */
  tac?: string;
}

/**
 * Builds a record as a terminal would send it, with the TAC a card of the test issuer computes.
 * Records of issuers without a test key (out of town) get a TAC under an unrelated key.
 */
export function fakeRecord(options: FakeRecordOptions): TransactionRecord {
  const family = options.family ?? (options.issuerId === LOCAL_SM4_ISSUER ? 'sm4' : 'des');
  const issuerId = options.issuerId ?? LOCAL_ISSUER;
  const asn = options.asn ?? defaultAsn(options.sequence, options.terminalId);
  const amountFen = options.amountFen ?? 200;
  const occurredAt = options.occurredAt ?? new Date(Date.UTC(2025, 4, 6, 1, 30, options.sequence % 60));
  const kind = options.kind ?? 'purchase';
  const cardDateTime = formatCardDateTime(occurredAt);
  const psamTerminalNumber = options.terminalId === undefined ? '010203040506' : terminalDigest(options.terminalId).slice(0, 12).toUpperCase();
  const terminalSerial = 7000 + options.sequence;

  const masterKey = TEST_KEY_ENTRIES.find((entry) => entry.issuerId === issuerId && entry.algorithm === family)?.tacMasterKey ?? fromHex('A5'.repeat(16));
  const tac = toHex(
    computeTac(family, diversifyKey(family, masterKey, asnFactor(asn)), {
      amountFen,
      transactionType: 0x06,
      terminalNumber: fromHex(psamTerminalNumber),
      terminalSerial,
      dateTime: fromHex(cardDateTime),
    }),
  );
  const carriesTac = kind === 'purchase' || (kind === 'resolution' && options.outcome === 'debited');

  const record: TransactionRecord = {
    sequence: options.sequence,
    kind,
    occurredAt: occurredAt.toISOString(),
    card: { application: 'tunion', medium: 'card', asn, issuerId, cardType: 'ordinary' },
    debit: {
      transactionType: 0x06,
      amountFen,
      listFareFen: 200,
      balanceBeforeFen: 5000,
      cardCounter: options.sequence,
      cardRandom: '11223344',
      keyVersion: 1,
      algorithmId: algorithmIdOf(family),
      psamTerminalNumber,
      terminalSerial,
      cardDateTime,
      ...(carriesTac ? { tac: options.tac ?? tac, balanceAfterFen: 5000 - amountFen, mac2Verified: true } : {}),
    },
    trip: { vehicleId: 'BUS-1', route: '12', direction: 0 },
  };
  if (options.resolvesSequence !== undefined) record.resolvesSequence = options.resolvesSequence;
  if (options.outcome !== undefined) record.outcome = options.outcome;
  return record;
}

/** Card number of the test issuer: one card per sequence number, and per terminal when one is named. */
function defaultAsn(sequence: number, terminalId: string | undefined): string {
  if (terminalId === undefined) return `99000001${String(1000 + sequence).padStart(12, '0')}`;
  const terminalPart = String(Number.parseInt(terminalDigest(terminalId).slice(0, 8), 16) % 1_000_000).padStart(6, '0');
  return `99000001${terminalPart}${String(sequence).padStart(6, '0')}`;
}

function terminalDigest(terminalId: string): string {
  return createHash('sha256').update(terminalId).digest('hex');
}

export function fakeBatch(terminalId: string, batchId: string, records: unknown[]): string {
  return JSON.stringify({ schema: TX_BATCH_SCHEMA, terminalId, batchId, sentAt: new Date().toISOString(), records });
}
