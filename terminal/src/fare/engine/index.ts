/**
 * The terminal's fare engine. The decision itself is the pure `decideFare` of the shared protocol,
 * because the back office's dry-run must price taps exactly as terminals do and may not import the
 * terminal. This module is where the terminal takes it from.
 */
export {
  decideFare,
  MemoryRecentTaps,
  FareInputError,
  formatLocalTime,
  routeStopLookupFromRoutes,
  type CardFacts,
  type FareCharge,
  type FareDecision,
  type FareInput,
  type FarePrompt,
  type FareRefusal,
  type RecentTaps,
  type RememberedTap,
  type RouteStopLookup,
  type TapKind,
  type TripFacts,
} from '@busfare/shared-protocol';
