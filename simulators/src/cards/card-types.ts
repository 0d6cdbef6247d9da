import type { CardType } from '@busfare/shared-protocol';

/**
 * Card-type codes the bench writes into EF15 byte 28 of its cards. The bench fare table maps
 * them back with BENCH_CARD_TYPE_BY_CODE; out-of-town cards are recognised by issuer, not code.
 */
export const BENCH_CARD_TYPE_CODES = Object.freeze({
  ordinary: 1,
  student: 2,
  senior: 3,
  disabled: 4,
  staff: 5,
  monthly: 6,
} as const);

export type BenchCardTypeName = keyof typeof BENCH_CARD_TYPE_CODES;

/** The same table keyed by code, in the shape of the fare table's `cardTypeByCode`. */
export const BENCH_CARD_TYPE_BY_CODE: Readonly<Record<string, CardType>> = Object.freeze(
  Object.fromEntries(Object.entries(BENCH_CARD_TYPE_CODES).map(([name, code]) => [String(code), name as CardType])),
);
