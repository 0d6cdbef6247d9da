/** One line cut from a byte stream, numbered from 1 as a text editor would. */
export interface SplitLine {
  lineNumber: number;
  /** Line text without its CR LF or LF terminator, decoded as Latin-1 so every byte maps to one character. */
  text: string;
  /** Set when the line was longer than the maximum and its bytes were dropped; `text` is then empty. */
  droppedBytes?: number;
}

export interface LineSplitterOptions {
  /** Maximum line length kept, in bytes without the terminator. NMEA 0183 allows 82 characters, but receivers exceed it. */
  maxLineBytes?: number;
}

export const DEFAULT_MAX_LINE_BYTES = 512;

const LF = 0x0a;
const CR = 0x0d;

/**
 * Cuts a byte stream into lines, wherever the chunks happen to be split. Lines end with LF or CR LF.
 * A line longer than the maximum is dropped as it streams in, so memory stays bounded whatever the input.
 */
export class LineSplitter {
  private readonly maxLineBytes: number;
  private readonly pending: Buffer;
  private pendingLength = 0;
  private droppedBytes = 0;
  private droppedEndsWithCr = false;
  private nextLineNumber = 1;

  constructor(options: LineSplitterOptions = {}) {
    this.maxLineBytes = options.maxLineBytes ?? DEFAULT_MAX_LINE_BYTES;
    if (!Number.isInteger(this.maxLineBytes) || this.maxLineBytes < 1) {
      throw new RangeError(`maxLineBytes must be a positive integer, got ${this.maxLineBytes}`);
    }
    // One spare byte stores a CR that may turn out to be part of the terminator.
    this.pending = Buffer.alloc(this.maxLineBytes + 1);
  }

  /** Returns the lines completed by this chunk. */
  push(chunk: Buffer | string): SplitLine[] {
    const bytes = typeof chunk === 'string' ? Buffer.from(chunk, 'latin1') : chunk;
    const lines: SplitLine[] = [];
    let start = 0;

    while (start < bytes.length) {
      const lf = bytes.indexOf(LF, start);
      const end = lf === -1 ? bytes.length : lf;
      this.append(bytes, start, end);
      if (lf === -1) break;
      lines.push(this.takeLine());
      start = lf + 1;
    }
    return lines;
  }

  /** Returns the last line when the stream ended without a terminator. */
  end(): SplitLine[] {
    if (this.pendingLength === 0 && this.droppedBytes === 0) return [];
    return [this.takeLine()];
  }

  private append(bytes: Buffer, start: number, end: number): void {
    const length = end - start;
    if (this.droppedBytes > 0 || this.pendingLength + length > this.maxLineBytes + 1) {
      if (length > 0) this.droppedEndsWithCr = bytes[end - 1] === CR;
      this.droppedBytes += this.pendingLength + length;
      this.pendingLength = 0;
      return;
    }
    bytes.copy(this.pending, this.pendingLength, start, end);
    this.pendingLength += length;
  }

  private takeLine(): SplitLine {
    const lineNumber = this.nextLineNumber++;
    let length = this.pendingLength;
    this.pendingLength = 0;

    if (this.droppedBytes > 0) {
      const droppedBytes = this.droppedBytes - (this.droppedEndsWithCr ? 1 : 0);
      this.droppedBytes = 0;
      this.droppedEndsWithCr = false;
      return { lineNumber, text: '', droppedBytes };
    }
    if (length > 0 && this.pending[length - 1] === CR) length -= 1;
    if (length > this.maxLineBytes) {
      return { lineNumber, text: '', droppedBytes: length };
    }
    return { lineNumber, text: this.pending.toString('latin1', 0, length) };
  }
}
