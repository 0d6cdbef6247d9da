export * from './fare-input.js';
export { decideFare } from './decide-fare.js';
export { MemoryRecentTaps, type RecentTaps, type MemoryRecentTapsOptions } from './recent-taps.js';
export { formatLocalTime, parseLocalTime, dayTypeOf, type LocalTime } from './local-time.js';
export { farePrompt, cardTypePrompt } from './fare-prompt.js';
export { routeStopLookupFromRoutes } from './route-stop-lookup.js';
export { MAX_BOARDING_CLOCK_AHEAD_MS, isBoardingAfterTap } from './clock-drift.js';
export { acquirerCityCode } from './acquirer-city.js';
export { cardTypeOfCode } from './card-type-code.js';
