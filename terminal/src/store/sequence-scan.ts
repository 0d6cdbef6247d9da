import { closeSync, existsSync, openSync, readSync } from 'node:fs';

const CHUNK_BYTES = 4 * 1024 * 1024;
/** Bytes carried from one chunk to the next, so a key split across two chunks is still found. */
const OVERLAP_BYTES = 32;
/**
 * The start of a stored record as JSON.stringify writes it: every record builder puts `sequence`
 * first and `kind` second, so `resolvesSequence` and text inside values do not match.
 */
const RECORD_START = /\{"sequence":(\d{1,15}),"kind":"/g;

/**
 * Returns the highest sequence N found at the start of a record text anywhere in the raw bytes of
 * the files that exist, counting N only when N - 1 is found too (or N is 1), or 0. It reads pages
 * that SQLite no longer reaches: a damaged b-tree, a file whose header is destroyed, WAL frames
 * after a bad checksum. Every record text in an outbox file and its own WAL is one that the outbox
 * allocated, or the next one when a crash left its commit unfinished. Sequences are allocated one
 * after the other, so the latest records lie side by side, while a digit changed by damage gives
 * a lone number that is left out.
 */
export function highestSequenceInFiles(paths: readonly string[]): number {
  const found = new Set<number>();
  for (const path of paths) {
    if (existsSync(path)) collectSequences(path, found);
  }
  const descending = [...found].sort((a, b) => b - a);
  return descending.find((sequence) => sequence === 1 || found.has(sequence - 1)) ?? 0;
}

function collectSequences(path: string, found: Set<number>): void {
  const descriptor = openSync(path, 'r');
  try {
    const buffer = Buffer.alloc(CHUNK_BYTES + OVERLAP_BYTES);
    let carried = 0;
    let position = 0;
    for (;;) {
      const read = readSync(descriptor, buffer, carried, CHUNK_BYTES, position);
      if (read === 0) break;
      position += read;
      const filled = carried + read;
      for (const match of buffer.toString('latin1', 0, filled).matchAll(RECORD_START)) found.add(Number(match[1]));
      carried = Math.min(OVERLAP_BYTES, filled);
      buffer.copyWithin(0, filled - carried, filled);
    }
  } finally {
    closeSync(descriptor);
  }
}
