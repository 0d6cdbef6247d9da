import type { CardType, RiderPromptId } from '@busfare/shared-protocol';

/** What the rider sees and hears at the door for one tap. */
export interface RiderFeedbackMessage {
  promptId: RiderPromptId;
  cardType?: CardType;
  amountFen?: number;
  balanceFen?: number;
}

export interface RiderFeedback {
  show(message: RiderFeedbackMessage): void;
}
