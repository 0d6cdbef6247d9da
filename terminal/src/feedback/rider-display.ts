import { RIDER_PROMPTS, UI_TEXT, formatYuan, uiText, type BeepPattern, type Language, type UiTextId } from '@busfare/shared-protocol';
import type { RiderFeedbackMessage } from '../ports/rider-feedback.js';

/** What the door display shows and the speaker plays for one tap, in both languages. */
export interface RiderDisplay {
  promptId: RiderFeedbackMessage['promptId'];
  /** Voice prompt file id from the catalogue. */
  voice: string;
  beep: BeepPattern;
  /** Display lines, largest first: the prompt, the card type, the fare and the balance. */
  lines: Record<Language, string[]>;
  amountFen?: number;
  balanceFen?: number;
}

const LANGUAGES: readonly Language[] = ['zh', 'en'];

/** Prompts that already name the card type, so the card-type line would repeat them. */
const CARD_TYPE_PROMPTS = new Set<string>(['card-type-student', 'card-type-senior', 'card-type-disabled', 'card-type-staff', 'card-type-monthly']);

/** Composes the display text, voice prompt and beep pattern of one feedback message. */
export function composeRiderDisplay(message: RiderFeedbackMessage): RiderDisplay {
  const prompt = RIDER_PROMPTS[message.promptId];
  const lines = {} as Record<Language, string[]>;
  for (const language of LANGUAGES) {
    const languageLines: string[] = [prompt[language]];
    const cardTypeId = `cardType.${message.cardType ?? ''}` as UiTextId;
    const namesCardType = message.cardType !== undefined && message.cardType !== 'ordinary' && !CARD_TYPE_PROMPTS.has(message.promptId);
    if (namesCardType && cardTypeId in UI_TEXT) languageLines.push(uiText(cardTypeId, language));
    if (message.amountFen !== undefined) languageLines.push(uiText('rider.fare', language, { amount: formatYuan(message.amountFen) }));
    if (message.balanceFen !== undefined) languageLines.push(uiText('rider.balance', language, { amount: formatYuan(message.balanceFen) }));
    lines[language] = languageLines;
  }
  return {
    promptId: message.promptId,
    voice: prompt.voice,
    beep: prompt.beep,
    lines,
    ...(message.amountFen === undefined ? {} : { amountFen: message.amountFen }),
    ...(message.balanceFen === undefined ? {} : { balanceFen: message.balanceFen }),
  };
}
