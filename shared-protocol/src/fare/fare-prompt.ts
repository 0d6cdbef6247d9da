import { RIDER_PROMPTS, type RiderPromptId } from '../messages/catalogue.js';
import type { CardType } from '../schemas/fare-table.js';
import type { FarePrompt } from './fare-input.js';

export function farePrompt(id: RiderPromptId): FarePrompt {
  const entry = RIDER_PROMPTS[id];
  return { id, zh: entry.zh, en: entry.en, voice: entry.voice, beep: entry.beep };
}

/** The prompt that names a concession card type so the driver can check the card, or "fare paid". */
export function cardTypePrompt(cardType: CardType): RiderPromptId {
  switch (cardType) {
    case 'student':
      return 'card-type-student';
    case 'senior':
      return 'card-type-senior';
    case 'disabled':
      return 'card-type-disabled';
    case 'staff':
      return 'card-type-staff';
    case 'monthly':
      return 'card-type-monthly';
    case 'ordinary':
    case 'tunion-out-of-town':
      return 'fare-paid';
  }
}
