import { afterEach, describe, expect, it } from 'vitest';
import { type BenchCity, waitFor } from '@busfare/simulators';
import { payingCards, startTestCity } from './city-fixture.js';

let city: BenchCity | undefined;

afterEach(async () => {
  await city?.stop();
  city = undefined;
});

/** Blacklist entries are the rightmost 8 bytes of the card number. */
const blacklistEntry = (asn: string) => asn.padStart(20, '0').slice(-16).toUpperCase();

describe('blacklist from the back office', () => {
  it('reaches the terminal and refuses and locks the card at the door', async () => {
    city = await startTestCity({ buses: 1 });
    const bus = city.buses[0]!;
    const [listed, other] = payingCards(city);
    expect((await bus.tap(listed!)).status).toBe('accepted');

    const authoring = city.office.parameters.authoring;
    if (!authoring) throw new Error('the bench back office has no parameter authoring');
    authoring.changeBlacklist([blacklistEntry(listed!.asn)], []);
    await waitFor(() => bus.parameters.activeBlacklist(new Date()).has(blacklistEntry(listed!.asn)), 15_000, 'the blacklist to reach the terminal');

    const refused = await bus.tap(listed!);
    expect(refused.status).toBe('refused');
    expect(refused.promptId).toBe('card-blacklisted');
    const again = await bus.tap(listed!);
    expect(again.promptId).toBe('invalid-card');
    expect((await bus.tap(other!)).status).toBe('accepted');
  });
});
