import type { RiderFeedback, RiderFeedbackMessage } from '../ports/rider-feedback.js';
import { composeRiderDisplay, type RiderDisplay } from './rider-display.js';

/** Displays kept by default; older ones are dropped so a long run does not grow memory. */
const DEFAULT_HISTORY = 100;

/** A door display without hardware: it keeps what the rider would have seen and heard. */
export class RecordingRiderFeedback implements RiderFeedback {
  last?: RiderFeedbackMessage;
  lastDisplay?: RiderDisplay;
  /** Messages shown since start, including those dropped from the history. */
  shown = 0;
  readonly history: RiderDisplay[] = [];
  private readonly listeners = new Set<(display: RiderDisplay) => void>();

  constructor(private readonly historySize = DEFAULT_HISTORY) {}

  show(message: RiderFeedbackMessage): void {
    const display = composeRiderDisplay(message);
    this.last = message;
    this.lastDisplay = display;
    this.shown += 1;
    this.history.push(display);
    if (this.history.length > this.historySize) this.history.splice(0, this.history.length - this.historySize);
    for (const listener of this.listeners) listener(display);
  }

  /** Calls `listener` with every later display; returns the function that removes it. */
  onDisplay(listener: (display: RiderDisplay) => void): () => void {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  }
}
