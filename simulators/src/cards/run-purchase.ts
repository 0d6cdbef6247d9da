import {
  AID,
  TRANSACTION_TYPE,
  asnFactor,
  epurse,
  parseFci,
  parseTUnionEf15,
  psam,
  splitResponse,
  type InitForPurchaseResult,
} from '@busfare/shared-protocol';
import type { ApduProcessor } from './apdu-card.js';

export interface RunPurchaseOptions {
  amountFen: number;
  /** YYYYMMDDhhmmss sent to the PSAM and the card. */
  dateTime: string;
  /** DF name to select. Default: the 8-byte T-Union EP AID. */
  aid?: Uint8Array;
  /** Replaces MAC1 before DEBIT, to test the card's MAC check. */
  tamperMac1?: (mac1: Uint8Array) => Uint8Array;
}

export interface RunPurchaseResult {
  init: InitForPurchaseResult;
  terminalSerial: number;
  mac1: Uint8Array;
  /** Raw DEBIT response (data + SW). */
  debitResponse: Uint8Array;
  /** TAC and MAC2 when DEBIT returned 9000. */
  debit?: { tac: Uint8Array; mac2: Uint8Array };
  /** PSAM status word for CREDIT SAM FOR PURCHASE, when DEBIT succeeded. */
  mac2Sw?: number;
}

/**
 * Drives one ordinary purchase straight through a card and a PSAM with the shared-protocol
 * codecs: SELECT, INIT, 8070, DEBIT, 8072. For tests and bench checks that need a purchase
 * without the terminal; it does no fare logic and no recovery.
 */
export function runPurchase(card: ApduProcessor, samModule: ApduProcessor, options: RunPurchaseOptions): RunPurchaseResult {
  const exchange = (processor: ApduProcessor, command: Uint8Array) => splitResponse(processor.process(command));
  const terminalNumber = readTerminalNumber(samModule, exchange);
  const keyIndex = readKeyIndex(samModule, exchange);

  const selected = exchange(card, epurse.selectByName(options.aid ?? AID.tunionEp));
  if (selected.sw !== 0x9000) throw new Error(`SELECT of the purse failed with SW ${selected.sw.toString(16)}`);
  const fci = parseFci(selected.data);
  if (!fci.issuerDiscretionary) throw new Error('purse FCI has no 9F0C (EF15 copy)');
  const ef15 = parseTUnionEf15(fci.issuerDiscretionary);

  const init = epurse.parseInitForPurchase(exchange(card, epurse.initForPurchase({ mode: 0x01, keyIndex, amountFen: options.amountFen, terminalNumber })));
  const samAnswer = psam.parseInitSamForPurchase(
    exchange(
      samModule,
      psam.initSamForPurchase({
        cardRandom: init.cardRandom,
        cardCounter: init.cardCounter,
        amountFen: options.amountFen,
        transactionType: TRANSACTION_TYPE.purchase,
        dateTime: options.dateTime,
        keyVersion: init.keyVersion,
        algorithmId: init.algorithmId,
        asn8: asnFactor(ef15.asn),
        issuerFactor: Buffer.from(ef15.issuerId, 'hex'),
      }),
    ),
  );
  const mac1 = options.tamperMac1 ? options.tamperMac1(samAnswer.mac1) : samAnswer.mac1;
  const debitResponse = card.process(epurse.debitForPurchase({ terminalSerial: samAnswer.terminalSerial, dateTime: options.dateTime, mac1 }));
  const result: RunPurchaseResult = { init, terminalSerial: samAnswer.terminalSerial, mac1, debitResponse };
  const debitAnswer = splitResponse(debitResponse);
  if (debitAnswer.sw !== 0x9000) return result;

  result.debit = epurse.parseDebitForPurchase(debitAnswer);
  result.mac2Sw = exchange(samModule, psam.creditSamForPurchase(result.debit.mac2)).sw;
  return result;
}

type Exchange = (processor: ApduProcessor, command: Uint8Array) => ReturnType<typeof splitResponse>;

function readTerminalNumber(samModule: ApduProcessor, exchange: Exchange): Uint8Array {
  const selected = exchange(samModule, epurse.selectByName(AID.tunionPsamDf));
  if (selected.sw !== 0x9000) throw new Error(`SELECT of the PSAM DF failed with SW ${selected.sw.toString(16)}`);
  const answer = exchange(samModule, psam.readPsamTerminalNumber());
  if (answer.sw !== 0x9000 || answer.data.length !== 6) throw new Error(`READ BINARY of PSAM EF16 failed with SW ${answer.sw.toString(16)}`);
  return answer.data.slice();
}

function readKeyIndex(samModule: ApduProcessor, exchange: Exchange): number {
  const answer = exchange(samModule, psam.readPsamKeyIndex());
  if (answer.sw !== 0x9000 || answer.data.length !== 1) throw new Error(`READ BINARY of PSAM EF17 failed with SW ${answer.sw.toString(16)}`);
  return answer.data[0] ?? 1;
}
