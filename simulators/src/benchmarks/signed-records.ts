import { createHash } from 'node:crypto';
import {
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
import { BENCH_ISSUERS, type BenchIssuer } from '../keys/test-keys.js';

const TRANSACTION_TYPE_PURCHASE = 0x06;

/**
 * Builds completed purchase records of `terminalId` with sequences from..to, each with the TAC
 * that a card of the bench city's 3DES issuer computes, so the back office verifies every one.
 * Cards repeat every `cards` records, with their counter going up. Each terminal has its own PSAM
 * terminal number and its own cards, so no two terminals send the same card evidence, which the
 * back office's replay checks would reject.
 */
export function signedRecords(terminalId: string, from: number, to: number, options: { cards?: number; issuer?: BenchIssuer; start?: Date } = {}): TransactionRecord[] {
  const issuer = options.issuer ?? BENCH_ISSUERS.cityDes;
  const cards = options.cards ?? 1_000;
  const start = options.start ?? new Date(Date.now() - 3600_000);
  const cardKeys = new Map<string, Uint8Array>();
  const records: TransactionRecord[] = [];
  const digest = createHash('sha256').update(terminalId).digest('hex');
  const psamTerminalNumber = `0000${digest.slice(0, 8)}`.toUpperCase();
  const terminalNumber = fromHex(psamTerminalNumber);
  const terminalPart = String(Number.parseInt(digest.slice(8, 16), 16) % 1_000_000).padStart(6, '0');

  for (let sequence = from; sequence <= to; sequence += 1) {
    const cardIndex = sequence % cards;
    const asn = `${issuer.cityCode}${issuer.issuerId.slice(4, 8)}${terminalPart}${String(cardIndex).padStart(6, '0')}`;
    let tacKey = cardKeys.get(asn);
    if (!tacKey) {
      tacKey = diversifyKey(issuer.algorithm, issuer.tacMasterKey, asnFactor(asn));
      cardKeys.set(asn, tacKey);
    }
    const occurredAt = new Date(start.getTime() + sequence * 10);
    const cardDateTime = formatCardDateTime(occurredAt);
    const amountFen = 200;
    const terminalSerial = sequence;
    const tac = computeTac(issuer.algorithm, tacKey, { amountFen, transactionType: TRANSACTION_TYPE_PURCHASE, terminalNumber, terminalSerial, dateTime: fromHex(cardDateTime) });
    const balanceBeforeFen = 1_000_000 - Math.floor(sequence / cards) * amountFen;
    records.push({
      sequence,
      kind: 'purchase',
      occurredAt: occurredAt.toISOString(),
      card: { application: issuer.application, medium: 'card', asn, issuerId: issuer.issuerId, cardType: 'ordinary' },
      debit: {
        transactionType: TRANSACTION_TYPE_PURCHASE,
        amountFen,
        listFareFen: amountFen,
        balanceBeforeFen,
        cardCounter: Math.floor(sequence / cards) + 1,
        cardRandom: '0A0B0C0D',
        keyVersion: issuer.keyVersion,
        algorithmId: algorithmIdOf(issuer.algorithm),
        psamTerminalNumber,
        terminalSerial,
        cardDateTime,
        tac: toHex(tac),
        balanceAfterFen: balanceBeforeFen - amountFen,
        mac2Verified: true,
      },
      trip: { vehicleId: `V-${terminalId}`, route: '1', direction: 0 },
    });
  }
  return records;
}

/** Serialises records as transaction batches of `batchSize`, the way the uplink sends them. */
export function batchPayloads(terminalId: string, records: readonly TransactionRecord[], batchSize: number): string[] {
  const payloads: string[] = [];
  for (let start = 0; start < records.length; start += batchSize) {
    const chunk = records.slice(start, start + batchSize);
    payloads.push(
      JSON.stringify({ schema: TX_BATCH_SCHEMA, terminalId, batchId: `${chunk[0]!.sequence}-${chunk.at(-1)!.sequence}`, sentAt: new Date().toISOString(), records: chunk }),
    );
  }
  return payloads;
}
