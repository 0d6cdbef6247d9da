import { MemoryDriverScreen } from '@busfare/terminal';
import { ALL_BENCH_ISSUERS, PsamTransport, SoftwarePsam } from '@busfare/simulators';
import { describe, expect, it } from 'vitest';
import { AlertingPsam } from '../../terminal/src/runtime/alerting-psam.js';

/** A PSAM slot that fails every APDU while `broken` is set, as a slot without a PSAM does. */
class SwitchablePsamSlot extends PsamTransport {
  broken = true;

  override transmit(command: Uint8Array): Promise<Uint8Array> {
    if (this.broken) return Promise.reject(new Error('no PSAM in the slot'));
    return super.transmit(command);
  }
}

describe('AlertingPsam', () => {
  it('raises psam-fault while the PSAM does not open', async () => {
    const screen = new MemoryDriverScreen();
    const slot = new SwitchablePsamSlot(new SoftwarePsam({ terminalNumber: '000058100094', issuers: ALL_BENCH_ISSUERS }));
    const sam = new AlertingPsam(slot, screen);

    await expect(sam.open()).rejects.toThrow(/PSAM start-up failed: no PSAM in the slot/);
    expect(screen.alerts.get('psam-fault')).toEqual({ id: 'psam-fault', severity: 'critical', messageId: 'alert.psam-fault' });
  });

  it('clears psam-fault when the PSAM opens', async () => {
    const screen = new MemoryDriverScreen();
    const slot = new SwitchablePsamSlot(new SoftwarePsam({ terminalNumber: '000058100094', issuers: ALL_BENCH_ISSUERS }));
    const sam = new AlertingPsam(slot, screen);
    await sam.open().catch(() => undefined);

    slot.broken = false;
    await sam.open();
    expect(screen.alerts.has('psam-fault')).toBe(false);
    expect(Buffer.from(sam.terminalNumber).toString('hex')).toBe('000058100094');
  });
});
