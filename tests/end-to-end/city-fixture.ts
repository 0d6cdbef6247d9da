import { BenchCity, VirtualTUnionCard } from '@busfare/simulators';
import pino from 'pino';

/** A small bench city on free ports, without riders or GPS, for end-to-end tests. */
export async function startTestCity(options: { buses?: number; externalBrokerUrl?: string; cards?: number } = {}): Promise<BenchCity> {
  const city = new BenchCity({
    buses: options.buses ?? 2,
    cards: options.cards ?? 40,
    seed: 7,
    mqttPort: 0,
    httpPort: 0,
    logger: pino({ level: process.env.BUSFARE_TEST_LOG ?? 'silent' }),
    gps: false,
    removeDataOnStop: true,
    externalBrokerUrl: options.externalBrokerUrl,
  });
  await city.start();
  return city;
}

/** Cards of the population that a flat-fare bus accepts: valid, local or out-of-town, with money. */
export function payingCards(city: BenchCity): VirtualTUnionCard[] {
  return city.cards.flatMap((entry) => (entry.card instanceof VirtualTUnionCard && !entry.profile.expired && !entry.profile.lowBalance ? [entry.card] : []));
}
