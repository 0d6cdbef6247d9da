import {
  M1_ENABLE_FLAG,
  M1_LAYOUT,
  M1_PROCESS_FLAG,
  MIFARE_OPERATION_FAILED,
  SW,
  decodeValueBlock,
  encodeM1Issuance,
  encodeM1PurseInfo,
  encodeValueBlock,
  classifyM1Boarding,
  classifyM1BoardingBySlot,
  m1CardNumber,
  m1RecordBlock,
  m1SectorOf,
  parseCommandApdu,
  parseM1Issuance,
  parseM1Boarding,
  parseM1PurseInfo,
  parseM1Record,
  readU32be,
  u32be,
  type M1BoardingRead,
  type M1Issuance,
} from '@busfare/shared-protocol';
import { BENCH_M1_ISSUER, type M1IssuerKeys, m1SectorKey, m1SectorKeyB } from '../psam/m1-keys.js';
import { type ApduCard, respond, statusOnly } from './apdu-card.js';

/** ATR a PC/SC reader reports for a MIFARE Classic 1K card (PC/SC part 3, byte 5 = 4F, card name 00 01). */
export const MIFARE_CLASSIC_1K_ATR = Uint8Array.from(Buffer.from('3B8F8001804F0CA000000306030001000000006A', 'hex'));

const SECTORS = 16;
const BLOCKS = SECTORS * 4;
/** Access bits that give key A read, write, decrement, transfer and restore, and key B everything. */
const ACCESS_BITS = Uint8Array.of(0x7f, 0x07, 0x88, 0x69);
/** Longest READ BINARY on a 1K card in Multiple Blocks Mode: three data blocks. */
const MAX_READ_BYTES = 48;

export interface VirtualM1CardOptions {
  /** 4-byte UID. */
  uid: Uint8Array;
  /** Card serial, 8 decimal digits. */
  cardSerial: string;
  balanceFen: number;
  cardTypeCode: number;
  startDate: string;
  expiryDate: string;
  enableFlag?: number;
  issuer?: M1IssuerKeys;
  label?: string;
}

/** One debit as the card's value block saw it: the purse counter in block 8 when the primary block was decremented. */
export interface M1DebitEntry {
  asn: string;
  counter: number;
  amountFen: number;
}

/**
 * A MIFARE Classic 1K purse behind an ACS reader's pseudo-APDUs (GET UID, LOAD KEY, GENERAL
 * AUTHENTICATE, READ BINARY of up to three blocks, UPDATE BINARY, VALUE BLOCK OPERATION, READ
 * VALUE, RESTORE VALUE), as a reader with a Multiple Blocks Mode (ACR1255U-J1, ACM1252U-Y3) handles them. The card
 * is personalised in the bench layout with keys diversified from its UID, and its boarding record
 * (blocks 24 and 25) starts empty, as on a card that never rode a tap-on/tap-off route. On real hardware the two
 * volatile key slots belong to the reader. They live here because the in-process reader passes
 * every pseudo-APDU through to the card. GET UID starts a new presentation and drops any
 * authentication, as the reader's anticollision at card arrival does.
 */
export class VirtualM1Card implements ApduCard {
  readonly atr = MIFARE_CLASSIC_1K_ATR;
  readonly protocol = 'mifare-classic' as const;
  readonly uid: Uint8Array;
  readonly label: string;
  readonly asn: string;
  readonly initialBalanceFen: number;
  private readonly blocks: Uint8Array[];
  private readonly keySlots: (Uint8Array | undefined)[] = [undefined, undefined];
  private authenticated: { sector: number; keyType: 'A' | 'B' } | undefined;
  private readonly entries: M1DebitEntry[] = [];

  constructor(options: VirtualM1CardOptions) {
    if (options.uid.length !== 4) throw new RangeError(`the bench M1 card has a 4-byte UID, got ${options.uid.length} bytes`);
    const issuer = options.issuer ?? BENCH_M1_ISSUER;
    this.uid = options.uid.slice();
    const issuance: M1Issuance = {
      cityCode: issuer.cityCode,
      institution: issuer.institution,
      cardSerial: options.cardSerial,
      cardTypeCode: options.cardTypeCode,
      enableFlag: options.enableFlag ?? M1_ENABLE_FLAG.normal,
      startDate: options.startDate,
      expiryDate: options.expiryDate,
    };
    this.asn = m1CardNumber(issuance);
    this.label = options.label ?? `m1 ${this.asn}`;
    this.initialBalanceFen = options.balanceFen;
    this.blocks = Array.from({ length: BLOCKS }, () => new Uint8Array(16));
    this.blocks[0] = Uint8Array.from([...this.uid, this.uid.reduce((check, byte) => check ^ byte, 0), 0x08, 0x04, 0x00, 0x62, 0x63, 0x64, 0x65, 0x66, 0x67, 0x68, 0x69]);
    for (let sector = 0; sector < SECTORS; sector += 1) {
      this.blocks[sector * 4 + 3] = Uint8Array.from([...m1SectorKey(issuer.sectorMasterKey, this.uid, sector), ...ACCESS_BITS, ...m1SectorKeyB(issuer.sectorMasterKey, this.uid, sector)]);
    }
    this.blocks[M1_LAYOUT.issuanceBlock] = encodeM1Issuance(issuance);
    this.blocks[M1_LAYOUT.purseInfoBlock] = encodeM1PurseInfo({ counter: 0, processFlag: M1_PROCESS_FLAG.idle, pendingAmountFen: 0, pendingBalanceBeforeFen: 0, pendingTerminalSerial: 0, pendingTerminalTail: '0000' });
    this.blocks[M1_LAYOUT.primaryValueBlock] = encodeValueBlock(options.balanceFen, M1_LAYOUT.primaryValueBlock);
    this.blocks[M1_LAYOUT.backupValueBlock] = encodeValueBlock(options.balanceFen, M1_LAYOUT.backupValueBlock);
  }

  /** The purse balance: the primary value block, or the backup when the primary is damaged. */
  get balanceFen(): number {
    const primary = decodeValueBlock(this.blocks[M1_LAYOUT.primaryValueBlock]!);
    const backup = decodeValueBlock(this.blocks[M1_LAYOUT.backupValueBlock]!);
    return primary?.value ?? backup?.value ?? 0;
  }

  /** Every decrement of the primary value block. */
  get debits(): readonly M1DebitEntry[] {
    return this.entries;
  }

  get enableFlag(): number {
    return parseM1Issuance(this.blocks[M1_LAYOUT.issuanceBlock]!).enableFlag;
  }

  get purseInfo() {
    return parseM1PurseInfo(this.blocks[M1_LAYOUT.purseInfoBlock]!);
  }

  /** The boarding record of sector 6, decoded. */
  get boardingRecord(): M1BoardingRead {
    const [first, second] = M1_LAYOUT.boardingBlocks;
    return parseM1Boarding(this.blocks[first]!, this.blocks[second]!);
  }

  /**
   * Whether the boarding record is open and names the purse's last debit, as the next tap will
   * find it. A debit that a torn tap left in progress counts the way the terminal finishes it:
   * taken when the primary block already shows the balance after it (always, for a zero amount),
   * not taken otherwise.
   */
  get hasOpenBoarding(): boolean {
    const read = this.boardingRecord;
    if (read.kind !== 'boarding') return false;
    let info = this.purseInfo;
    if (info.processFlag === M1_PROCESS_FLAG.debitInProgress) {
      const debitTaken = info.pendingAmountFen === 0 || this.balanceFen === info.pendingBalanceBeforeFen - info.pendingAmountFen;
      info = { ...info, counter: debitTaken ? (info.counter + 1) & 0xffff : info.counter, processFlag: M1_PROCESS_FLAG.idle };
    }
    const commitState = classifyM1Boarding(read.boarding, info);
    if (commitState !== 'check-record') return commitState === 'open';
    return classifyM1BoardingBySlot(read.boarding, parseM1Record(this.blocks[m1RecordBlock(read.boarding.boardingCounter)]!)) === 'open';
  }

  /** A copy of one block, for tests. */
  block(number: number): Uint8Array {
    return this.blocks[number]!.slice();
  }

  /** Overwrites one block, for tests that damage a card (a torn write, a clone). */
  setBlock(number: number, data: Uint8Array): void {
    if (data.length !== 16) throw new RangeError(`a block is 16 bytes, got ${data.length}`);
    this.blocks[number] = data.slice();
  }

  process(command: Uint8Array): Uint8Array {
    let apdu: ReturnType<typeof parseCommandApdu>;
    try {
      apdu = parseCommandApdu(command);
    } catch {
      return statusOnly(SW.WRONG_LENGTH);
    }
    const { cla, ins, p1, p2, data, le } = apdu;
    if (cla !== 0xff) return statusOnly(SW.CLA_NOT_SUPPORTED);
    switch (ins) {
      case 0xca:
        return this.getData(p1, p2);
      case 0x82:
        return this.loadKey(p1, p2, data);
      case 0x86:
        return this.authenticate(p1, p2, data);
      case 0xb0:
        return this.read(p1, p2, le);
      case 0xd6:
        return this.write(p1, p2, data);
      case 0xd7:
        return this.valueOperation(p1, p2, data);
      case 0xb1:
        return this.readValue(p1, p2);
      default:
        return statusOnly(SW.INS_NOT_SUPPORTED);
    }
  }

  private getData(p1: number, p2: number): Uint8Array {
    if (p2 !== 0x00) return statusOnly(SW.WRONG_P1P2);
    // A MIFARE Classic card has no ATS (P1 = 01): the reader reports the function as not supported.
    if (p1 !== 0x00) return statusOnly(SW.FUNCTION_NOT_SUPPORTED);
    this.authenticated = undefined;
    // The UID in the byte order of block 0, which is the order anticollision delivers it in.
    return respond(this.uid, SW.OK);
  }

  private loadKey(p1: number, p2: number, data: Uint8Array): Uint8Array {
    if (p1 !== 0x00 || (p2 !== 0 && p2 !== 1)) return statusOnly(SW.WRONG_P1P2);
    if (data.length !== 6) return statusOnly(SW.WRONG_LENGTH);
    this.keySlots[p2] = data.slice();
    return statusOnly(SW.OK);
  }

  private authenticate(p1: number, p2: number, data: Uint8Array): Uint8Array {
    if (p1 !== 0x00 || p2 !== 0x00) return statusOnly(SW.WRONG_P1P2);
    if (data.length !== 5 || data[0] !== 0x01 || data[1] !== 0x00) return statusOnly(SW.WRONG_LENGTH);
    const block = data[2]!;
    const keyType = data[3] === 0x60 ? 'A' : data[3] === 0x61 ? 'B' : undefined;
    const key = this.keySlots[data[4]!];
    this.authenticated = undefined;
    if (block >= BLOCKS || !keyType || !key) return statusOnly(MIFARE_OPERATION_FAILED);
    const sector = m1SectorOf(block);
    const trailer = this.blocks[sector * 4 + 3]!;
    const expected = keyType === 'A' ? trailer.subarray(0, 6) : trailer.subarray(10, 16);
    if (!Buffer.from(expected).equals(Buffer.from(key))) return statusOnly(MIFARE_OPERATION_FAILED);
    this.authenticated = { sector, keyType };
    return statusOnly(SW.OK);
  }

  /** Whether the block may be used now: authenticated sector, not the manufacturer block or a trailer for writes. */
  private usable(block: number, write: boolean): boolean {
    if (block >= BLOCKS || this.authenticated?.sector !== m1SectorOf(block)) return false;
    if (write && (block === 0 || block % 4 === 3)) return false;
    return true;
  }

  /**
   * Handles READ BINARY as ACS readers with a Multiple Blocks Mode do. Le 16 (or none) reads one
   * block, trailers included. Le 32 or 48 reads that many consecutive data blocks of the
   * authenticated sector, and a range that reaches a trailer fails.
   */
  private read(p1: number, block: number, le: number | undefined): Uint8Array {
    if (p1 !== 0x00) return statusOnly(SW.WRONG_P1P2);
    const length = le ?? 16;
    if (length === 0 || length % 16 !== 0 || length > MAX_READ_BYTES) return statusOnly(MIFARE_OPERATION_FAILED);
    const count = length / 16;
    const last = block + count - 1;
    if (!this.usable(block, false) || !this.usable(last, false)) return statusOnly(MIFARE_OPERATION_FAILED);
    if (count === 1) {
      const data = this.blocks[block]!.slice();
      // Key A of a trailer always reads as zeros.
      if (block % 4 === 3) data.fill(0, 0, 6);
      return respond(data, SW.OK);
    }
    if (last % 4 === 3) return statusOnly(MIFARE_OPERATION_FAILED);
    return respond(Uint8Array.from(Buffer.concat(this.blocks.slice(block, last + 1))), SW.OK);
  }

  private write(p1: number, block: number, data: Uint8Array): Uint8Array {
    if (p1 !== 0x00) return statusOnly(SW.WRONG_P1P2);
    if (data.length !== 16) return statusOnly(SW.WRONG_LENGTH);
    if (!this.usable(block, true)) return statusOnly(MIFARE_OPERATION_FAILED);
    this.blocks[block] = data.slice();
    return statusOnly(SW.OK);
  }

  private valueOperation(p1: number, block: number, data: Uint8Array): Uint8Array {
    if (p1 !== 0x00) return statusOnly(SW.WRONG_P1P2);
    if (data.length === 2 && data[0] === 0x03) return this.restore(block, data[1]!);
    if (data.length !== 5) return statusOnly(SW.WRONG_LENGTH);
    if (!this.usable(block, true)) return statusOnly(MIFARE_OPERATION_FAILED);
    const operand = readU32be(data, 1);
    const op = data[0];
    if (op === 0x00) {
      if (operand > 0x7fffffff) return statusOnly(MIFARE_OPERATION_FAILED);
      this.blocks[block] = encodeValueBlock(operand, block);
      return statusOnly(SW.OK);
    }
    const current = decodeValueBlock(this.blocks[block]!);
    if (!current || operand > 0x7fffffff) return statusOnly(MIFARE_OPERATION_FAILED);
    if (op === 0x01) {
      // Loading money needs key B, which no bus terminal has.
      if (this.authenticated?.keyType !== 'B' || current.value + operand > 0x7fffffff) return statusOnly(MIFARE_OPERATION_FAILED);
      this.blocks[block] = encodeValueBlock(current.value + operand, current.address);
      return statusOnly(SW.OK);
    }
    if (op !== 0x02) return statusOnly(SW.WRONG_P1P2);
    if (current.value - operand < -0x80000000) return statusOnly(MIFARE_OPERATION_FAILED);
    this.blocks[block] = encodeValueBlock(current.value - operand, current.address);
    if (block === M1_LAYOUT.primaryValueBlock && operand > 0) this.entries.push({ asn: this.asn, counter: this.purseInfo.counter, amountFen: operand });
    return statusOnly(SW.OK);
  }

  /** RESTORE then TRANSFER: copies a valid value block into another block of the same sector. */
  private restore(source: number, target: number): Uint8Array {
    if (!this.usable(source, true) || !this.usable(target, true)) return statusOnly(MIFARE_OPERATION_FAILED);
    const value = decodeValueBlock(this.blocks[source]!);
    if (!value) return statusOnly(MIFARE_OPERATION_FAILED);
    this.blocks[target] = this.blocks[source]!.slice();
    return statusOnly(SW.OK);
  }

  private readValue(p1: number, block: number): Uint8Array {
    if (p1 !== 0x00) return statusOnly(SW.WRONG_P1P2);
    if (!this.usable(block, false)) return statusOnly(MIFARE_OPERATION_FAILED);
    const value = decodeValueBlock(this.blocks[block]!);
    if (!value) return statusOnly(MIFARE_OPERATION_FAILED);
    return respond(u32be(value.value >>> 0), SW.OK);
  }
}
