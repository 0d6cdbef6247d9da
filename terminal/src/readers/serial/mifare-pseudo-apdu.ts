import { MIFARE_OPERATION_FAILED, SW, decodeValueBlock, encodeValueBlock, mifare, parseCommandApdu, readU32be, u32be } from '@busfare/shared-protocol';
import { MIFARE_CMD } from './pn532-commands.js';

/**
 * Sends one MIFARE command inside InDataExchange. It resolves with the card's response data, or
 * with `refused` when the card NAKed the command or the authentication failed. It rejects with
 * CardIoError or ReaderIoError when the card or the module is lost.
 */
export type MifareExchange = (command: Uint8Array) => Promise<Uint8Array | 'refused'>;

/** Reader-side state of one MIFARE Classic presentation: the two volatile key slots of FF 82. */
export interface MifareContext {
  uid: Uint8Array;
  keySlots: (Uint8Array | undefined)[];
}

const MAX_READ_BLOCKS = 3;
const { MIFARE_BLOCK_SIZE, MIFARE_KEY_SIZE } = mifare;

/** GENERAL AUTHENTICATE key type byte (60 key A, 61 key B) to the MIFARE authentication command. */
const AUTHENTICATION_COMMANDS: Partial<Record<number, number>> = { 0x60: MIFARE_CMD.authA, 0x61: MIFARE_CMD.authB };
/** FF D7 operation byte (01 increment, 02 decrement) to the MIFARE command. */
const VALUE_COMMANDS: Partial<Record<number, number>> = { 0x01: MIFARE_CMD.increment, 0x02: MIFARE_CMD.decrement };

function status(sw: number): Uint8Array {
  return Uint8Array.of(sw >>> 8, sw & 0xff);
}

const FAILED = status(MIFARE_OPERATION_FAILED);
const OK = status(SW.OK);

/**
 * Carries out the PC/SC part 3 pseudo-APDUs of ACS readers (FF CA, FF 82, FF 86, FF B0, FF D6,
 * FF D7, FF B1) with PN532 MIFARE commands. It returns what an ACS reader returns: data and
 * 90 00, or 63 00 when the card rejects the operation. A value operation becomes the card's
 * decrement, increment or restore followed by a transfer, because the card executes them in two steps.
 */
export async function runMifarePseudoApdu(command: Uint8Array, context: MifareContext, exchange: MifareExchange): Promise<Uint8Array> {
  let apdu: ReturnType<typeof parseCommandApdu>;
  try {
    apdu = parseCommandApdu(command);
  } catch {
    return status(SW.WRONG_LENGTH);
  }
  const { cla, ins, p1, p2, data, le } = apdu;
  if (cla !== 0xff) return status(SW.CLA_NOT_SUPPORTED);
  switch (ins) {
    case 0xca:
      if (p2 !== 0x00) return status(SW.WRONG_P1P2);
      if (p1 !== 0x00) return status(SW.FUNCTION_NOT_SUPPORTED);
      return Uint8Array.from([...context.uid, 0x90, 0x00]);
    case 0x82:
      if (p1 !== 0x00 || (p2 !== 0 && p2 !== 1)) return status(SW.WRONG_P1P2);
      if (data.length !== MIFARE_KEY_SIZE) return status(SW.WRONG_LENGTH);
      context.keySlots[p2] = data.slice();
      return OK;
    case 0x86: {
      if (data.length !== 5 || data[0] !== 0x01 || data[1] !== 0x00) return status(SW.WRONG_LENGTH);
      const key = context.keySlots[data[4]!];
      const keyCommand = AUTHENTICATION_COMMANDS[data[3]!];
      if (!key || keyCommand === undefined) return FAILED;
      // The authentication takes the last four UID bytes: all of a 4-byte UID, the tail of a 7-byte one.
      const result = await exchange(Uint8Array.from([keyCommand, data[2]!, ...key, ...context.uid.subarray(-4)]));
      return result === 'refused' ? FAILED : OK;
    }
    case 0xb0: {
      if (p1 !== 0x00) return status(SW.WRONG_P1P2);
      const length = le ?? MIFARE_BLOCK_SIZE;
      if (length === 0 || length % MIFARE_BLOCK_SIZE !== 0 || length / MIFARE_BLOCK_SIZE > MAX_READ_BLOCKS) return FAILED;
      const blocks: Uint8Array[] = [];
      for (let index = 0; index < length / MIFARE_BLOCK_SIZE; index += 1) {
        const block = await readBlock(p2 + index, exchange);
        if (!block) return FAILED;
        blocks.push(block);
      }
      return Uint8Array.from([...blocks.flatMap((block) => [...block]), 0x90, 0x00]);
    }
    case 0xd6:
      if (p1 !== 0x00) return status(SW.WRONG_P1P2);
      if (data.length !== MIFARE_BLOCK_SIZE) return status(SW.WRONG_LENGTH);
      return (await writeBlock(p2, data, exchange)) ? OK : FAILED;
    case 0xb1: {
      if (p1 !== 0x00) return status(SW.WRONG_P1P2);
      const block = await readBlock(p2, exchange);
      const value = block ? decodeValueBlock(block) : undefined;
      return value ? Uint8Array.from([...u32be(value.value >>> 0), 0x90, 0x00]) : FAILED;
    }
    case 0xd7:
      if (p1 !== 0x00) return status(SW.WRONG_P1P2);
      return valueOperation(p2, data, exchange);
    default:
      return status(SW.INS_NOT_SUPPORTED);
  }
}

async function valueOperation(block: number, data: Uint8Array, exchange: MifareExchange): Promise<Uint8Array> {
  if (data.length === 2 && data[0] === 0x03) {
    const restored = await exchange(Uint8Array.of(MIFARE_CMD.restore, block, 0, 0, 0, 0));
    if (restored === 'refused') return FAILED;
    return (await exchange(Uint8Array.of(MIFARE_CMD.transfer, data[1]!))) === 'refused' ? FAILED : OK;
  }
  if (data.length !== 5) return status(SW.WRONG_LENGTH);
  const operand = readU32be(data, 1);
  if (operand > 0x7fffffff) return FAILED;
  if (data[0] === 0x00) return (await writeBlock(block, encodeValueBlock(operand, block), exchange)) ? OK : FAILED;
  const code = VALUE_COMMANDS[data[0]!];
  if (code === undefined) return status(SW.WRONG_P1P2);
  // The card takes the operand little-endian, the pseudo-APDU carries it big-endian.
  const changed = await exchange(Uint8Array.of(code, block, operand & 0xff, (operand >>> 8) & 0xff, (operand >>> 16) & 0xff, operand >>> 24));
  if (changed === 'refused') return FAILED;
  return (await exchange(Uint8Array.of(MIFARE_CMD.transfer, block))) === 'refused' ? FAILED : OK;
}

async function readBlock(block: number, exchange: MifareExchange): Promise<Uint8Array | undefined> {
  if (block > 0xff) return undefined;
  const answer = await exchange(Uint8Array.of(MIFARE_CMD.read, block));
  return answer === 'refused' || answer.length !== MIFARE_BLOCK_SIZE ? undefined : answer;
}

async function writeBlock(block: number, data: Uint8Array, exchange: MifareExchange): Promise<boolean> {
  return (await exchange(Uint8Array.from([MIFARE_CMD.write, block, ...data]))) !== 'refused';
}
