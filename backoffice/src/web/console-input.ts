import type { UiTextId } from '@busfare/shared-protocol';

/**
 * An operator's form input that the console rejects, named by a catalogue message so the page
 * shows it in the operator's language. `detail` carries technical text (field paths, parser
 * output) that follows the translated message.
 */
export class ConsoleInputError extends Error {
  constructor(
    readonly messageId: UiTextId,
    readonly params: Record<string, string | number> = {},
    readonly detail?: string,
  ) {
    super(detail === undefined ? messageId : `${messageId}: ${detail}`);
    this.name = 'ConsoleInputError';
  }
}

const CARD_NUMBER = /^[0-9A-F]{8,20}$/;

/** Upper-cases a card number typed or pasted by an operator and checks it has 8-20 digits or hex digits. */
export function cardNumberOf(text: string | undefined): string {
  const asn = (text ?? '').trim().toUpperCase();
  if (!CARD_NUMBER.test(asn)) throw new ConsoleInputError('ops.input.cardNumber', { value: (text ?? '').trim() });
  return asn;
}

/** Parses a yuan amount with up to two decimals ("-1.5", "20") into fen. */
export function yuanToFen(text: string | undefined): number {
  const match = /^\s*(-?)(\d{1,7})(?:\.(\d{1,2}))?\s*$/.exec(text ?? '');
  if (!match) throw new ConsoleInputError('ops.input.amount', { value: (text ?? '').trim() });
  const fen = Number(match[2]) * 100 + Number((match[3] ?? '').padEnd(2, '0'));
  return match[1] === '-' ? -fen : fen;
}
