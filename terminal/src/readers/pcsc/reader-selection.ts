import type { EventEmitter } from 'node:events';

/** Selects a PC/SC reader: a substring of its name (case-insensitive) or a pattern. */
export type ReaderNameFilter = string | RegExp;

export function matchesReaderName(readerName: string, filter: ReaderNameFilter): boolean {
  if (typeof filter === 'string') return readerName.toLowerCase().includes(filter.toLowerCase());
  return filter.test(readerName);
}

const redirected = new WeakSet<EventEmitter>();

/**
 * nfc-pcsc 0.8.1's Reader calls `this.emit(err)` when connecting to or disconnecting from a card
 * fails, which uses the error object as the event name, so no 'error' listener ever sees it. This
 * sends such emits to 'error' instead.
 */
export function redirectErrorEvents(reader: EventEmitter): void {
  if (redirected.has(reader)) return;
  redirected.add(reader);
  const emit = reader.emit.bind(reader);
  reader.emit = ((event: string | symbol | Error, ...args: unknown[]) => {
    if (event instanceof Error) return emit('error', event);
    return emit(event, ...args);
  }) as typeof reader.emit;
}
