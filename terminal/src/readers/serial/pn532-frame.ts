/**
 * Frames of the NXP PN532 host link (HSU, I2C and SPI share them; user manual UM0701-02 §6.2).
 *
 * Normal information frame: `00 00 FF LEN LCS TFI PD0..PDn DCS 00`, where LEN counts TFI and the
 * data bytes, LEN + LCS = 0 and TFI + PD0 + .. + PDn + DCS = 0 (mod 256). Extended frame, for up to
 * 265 bytes: `00 00 FF FF FF LENM LENL LCS TFI .. DCS 00` with LENM + LENL + LCS = 0. ACK is
 * `00 00 FF 00 FF 00`, NACK `00 00 FF FF 00 00`, and the application-level error frame is
 * `00 00 FF 01 FF 7F 81 00`. TFI is D4 from the host and D5 from the PN532, whose response
 * code is the command code plus one.
 */

export const TFI_HOST_TO_PN532 = 0xd4;
export const TFI_PN532_TO_HOST = 0xd5;
/** TFI of the one-byte error frame the PN532 sends for a syntax error in a command frame. */
export const TFI_ERROR = 0x7f;

export const ACK_FRAME = Uint8Array.of(0x00, 0x00, 0xff, 0x00, 0xff, 0x00);
export const NACK_FRAME = Uint8Array.of(0x00, 0x00, 0xff, 0xff, 0x00, 0x00);

/**
 * Bytes that wake a PN532 in power-down on HSU: 55 55 followed by enough zeros to cover the
 * oscillator start-up, because the manual requires a long preamble before the first command.
 */
export const HSU_WAKE_UP = Uint8Array.of(0x55, 0x55, ...new Array<number>(14).fill(0x00));

/** Largest LEN of an extended information frame: TFI plus 264 data bytes. */
export const MAX_FRAME_LENGTH = 265;

export type Pn532Frame =
  | { kind: 'ack' }
  | { kind: 'nack' }
  /** The PN532 found a syntax error in the host's frame: LEN 1, TFI 7F, DCS 81. */
  | { kind: 'error' }
  | { kind: 'info'; tfi: number; data: Uint8Array }
  /**
   * A frame that started with a valid start code but failed a checksum or a length rule. When only
   * the data checksum failed, `tfi` and `code` are its first two data bytes as received.
   */
  | { kind: 'invalid'; reason: string; tfi?: number; code?: number };

/** Encodes one information frame; `data` is the command or response code and its parameters. */
export function encodeFrame(tfi: number, data: Uint8Array): Uint8Array {
  const length = data.length + 1;
  if (length > MAX_FRAME_LENGTH) throw new RangeError(`a PN532 frame carries at most ${MAX_FRAME_LENGTH - 1} data bytes, got ${data.length}`);
  const dcs = (0x100 - ((tfi + sum(data)) & 0xff)) & 0xff;
  const header =
    length <= 0xff
      ? [0x00, 0x00, 0xff, length, (0x100 - length) & 0xff]
      : [0x00, 0x00, 0xff, 0xff, 0xff, length >>> 8, length & 0xff, (0x100 - (((length >>> 8) + (length & 0xff)) & 0xff)) & 0xff];
  return Uint8Array.from([...header, tfi, ...data, dcs, 0x00]);
}

/** Encodes the error frame the PN532 sends for a frame it could not parse. */
export function encodeErrorFrame(): Uint8Array {
  return encodeFrame(TFI_ERROR, new Uint8Array(0));
}

function sum(bytes: Uint8Array): number {
  let total = 0;
  for (const byte of bytes) total += byte;
  return total;
}

/**
 * Splits a byte stream into PN532 frames. Bytes before a start code `00 FF` (noise, the wake-up
 * preamble, a half frame cut off by a reconnect) are skipped and counted. A frame split across
 * several reads waits in the buffer until it is complete. A frame that fails a checksum or
 * announces more than MAX_FRAME_LENGTH bytes yields `invalid`, and decoding resumes after its start code.
 */
export class Pn532FrameDecoder {
  private buffer: Uint8Array = new Uint8Array(0);
  /** Bytes dropped because they were not part of a frame. */
  skippedBytes = 0;

  push(chunk: Uint8Array): Pn532Frame[] {
    const joined = new Uint8Array(this.buffer.length + chunk.length);
    joined.set(this.buffer);
    joined.set(chunk, this.buffer.length);
    this.buffer = joined;
    const frames: Pn532Frame[] = [];
    for (;;) {
      const result = this.next();
      if (result === undefined) break;
      frames.push(result);
    }
    return frames;
  }

  /** Drops any partial frame, for a link that was reset. */
  reset(): void {
    this.buffer = new Uint8Array(0);
  }

  private next(): Pn532Frame | undefined {
    const buffer = this.buffer;
    const start = findStartCode(buffer);
    if (start < 0) {
      // Keep a trailing 00 that may be the first byte of the next start code.
      const keep = buffer.length > 0 && buffer[buffer.length - 1] === 0x00 ? 1 : 0;
      this.skippedBytes += buffer.length - keep;
      this.buffer = buffer.subarray(buffer.length - keep);
      return undefined;
    }
    // The preamble 00 before the start code is optional for a decoder; anything else before it is noise.
    const noise = start > 0 && buffer[start - 1] === 0x00 ? start - 1 : start;
    this.skippedBytes += noise;
    const at = start + 2;
    if (buffer.length < at + 2) return this.keepFrom(start);
    const len = buffer[at]!;
    const lcs = buffer[at + 1]!;
    if (len === 0x00 && lcs === 0xff) return this.consume(at + 3, { kind: 'ack' });
    if (len === 0xff && lcs === 0x00) return this.consume(at + 3, { kind: 'nack' });

    let length: number;
    let body: number;
    if (len === 0xff && lcs === 0xff) {
      if (buffer.length < at + 5) return this.keepFrom(start);
      const lenm = buffer[at + 2]!;
      const lenl = buffer[at + 3]!;
      if (((lenm + lenl + buffer[at + 4]!) & 0xff) !== 0) return this.drop(start, `extended length checksum fails for LENM ${lenm} LENL ${lenl}`);
      length = (lenm << 8) | lenl;
      body = at + 5;
    } else {
      if (((len + lcs) & 0xff) !== 0) return this.drop(start, `length checksum fails: LEN ${len} LCS ${lcs}`);
      length = len;
      body = at + 2;
    }
    if (length === 0) return this.drop(start, 'information frame without TFI');
    if (length > MAX_FRAME_LENGTH) return this.drop(start, `frame length ${length} exceeds ${MAX_FRAME_LENGTH}`);
    // TFI and data, DCS, postamble.
    if (buffer.length < body + length + 2) return this.keepFrom(start);
    const payload = buffer.subarray(body, body + length);
    const dcs = buffer[body + length]!;
    if (((sum(payload) + dcs) & 0xff) !== 0) {
      const damaged = this.drop(start, `data checksum fails over ${length} bytes`);
      return length >= 2 ? { ...damaged, tfi: payload[0]!, code: payload[1]! } : damaged;
    }
    const tfi = payload[0]!;
    const data = payload.slice(1);
    const frame: Pn532Frame = tfi === TFI_ERROR && length === 1 ? { kind: 'error' } : { kind: 'info', tfi, data };
    // The postamble is not checked: some modules send none, and a missing one only shifts the next search.
    return this.consume(body + length + 2, frame);
  }

  private keepFrom(start: number): undefined {
    this.buffer = this.buffer.subarray(start);
    return undefined;
  }

  private consume(end: number, frame: Pn532Frame): Pn532Frame {
    this.buffer = this.buffer.subarray(Math.min(end, this.buffer.length));
    return frame;
  }

  private drop(start: number, reason: string): Pn532Frame & { kind: 'invalid' } {
    this.buffer = this.buffer.subarray(start + 2);
    return { kind: 'invalid', reason };
  }
}

/** Index of the first `00 FF` start code, or -1. */
function findStartCode(buffer: Uint8Array): number {
  for (let index = 0; index + 1 < buffer.length; index += 1) {
    if (buffer[index] === 0x00 && buffer[index + 1] === 0xff) return index;
  }
  return -1;
}
