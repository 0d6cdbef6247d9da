import GtfsRealtimeBindings from 'gtfs-realtime-bindings';
import { describe, expect, it } from 'vitest';
import type { VehiclePrediction } from './arrival-predictor.js';
import { decodeRealtimeFeed, encodeRealtimeFeeds } from './gtfs-realtime-feed.js';

const { transit_realtime: realtime } = GtfsRealtimeBindings;

function vehicle(id: string, stops: number): VehiclePrediction {
  return {
    vehicleId: id,
    tripId: `trip-${id}`,
    gtfsTripId: `trip-${id}`,
    routeId: '1',
    directionId: 0,
    serviceDate: '2026-12-04',
    lat: 31.3,
    lon: 120.6,
    timestamp: 1_796_000_000,
    nextStopIndex: 2,
    delayS: 45,
    layover: false,
    detour: false,
    stops: Array.from({ length: stops }, (_, index) => ({ stopId: `s${index + 2}`, stopIndex: index + 2, predictedArrival: 1_796_000_100 + index * 90, scheduledArrival: 1_796_000_060 + index * 90 })),
  };
}

describe('encodeRealtimeFeeds', () => {
  it('frames the entities into the same bytes as encoding the whole message', () => {
    // 40 stops make an entity longer than 127 bytes, so its length takes two varint bytes.
    const vehicles = [vehicle('V1', 3), vehicle('V2', 40), vehicle('V3', 0)];
    const feeds = encodeRealtimeFeeds(vehicles, 1_796_000_200);
    const decoded = decodeRealtimeFeed(feeds.tripUpdates);
    expect(decoded.entity.map((entity) => entity.tripUpdate?.stopTimeUpdate?.length)).toEqual([3, 40, 0]);
    expect(Uint8Array.from(realtime.FeedMessage.encode(decoded).finish())).toEqual(Uint8Array.from(feeds.tripUpdates));
    const positions = decodeRealtimeFeed(feeds.vehiclePositions);
    expect(positions.entity.map((entity) => entity.vehicle?.vehicle?.id)).toEqual(['V1', 'V2', 'V3']);
    expect(Uint8Array.from(realtime.FeedMessage.encode(positions).finish())).toEqual(Uint8Array.from(feeds.vehiclePositions));
  });

  it('describes a frequency-based run by start time', () => {
    const run = { ...vehicle('V4', 1), tripId: '1-0@08:30:00', gtfsTripId: '1-0', startTime: '08:30:00' };
    const [entity] = decodeRealtimeFeed(encodeRealtimeFeeds([run], 1_796_000_200).tripUpdates).entity;
    expect(entity?.tripUpdate?.trip).toMatchObject({ tripId: '1-0', startTime: '08:30:00', startDate: '20261204' });
  });

  it('encodes an empty snapshot as a header only', () => {
    const decoded = decodeRealtimeFeed(encodeRealtimeFeeds([], 1_796_000_200).tripUpdates);
    expect(decoded.entity).toHaveLength(0);
    expect(Number(decoded.header.timestamp)).toBe(1_796_000_200);
  });
});
