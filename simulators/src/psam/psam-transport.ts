import type { ApduTransport } from '@busfare/terminal';
import type { ApduProcessor } from '../cards/apdu-card.js';
import { waitLinkLatency } from '../reader/link-latency.js';

export interface PsamTransportOptions {
  /** Simulated link time per APDU in milliseconds (a contact PSAM slot). Default 0. */
  latencyMs?: number;
}

/**
 * Exposes a synchronous APDU processor (a SoftwarePsam) as the terminal's ApduTransport. APDUs
 * are processed one at a time in the order they were sent, as over a real slot.
 */
export class PsamTransport implements ApduTransport {
  private readonly latencyMs: number;
  private queue: Promise<unknown> = Promise.resolve();

  constructor(
    private readonly processor: ApduProcessor,
    options: PsamTransportOptions = {},
  ) {
    this.latencyMs = options.latencyMs ?? 0;
  }

  transmit(command: Uint8Array): Promise<Uint8Array> {
    const copy = command.slice();
    const result = this.queue.then(async () => {
      await waitLinkLatency(this.latencyMs);
      return this.processor.process(copy);
    });
    this.queue = result.catch(() => undefined);
    return result;
  }
}
