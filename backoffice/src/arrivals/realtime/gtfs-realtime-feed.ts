import GtfsRealtimeBindings from 'gtfs-realtime-bindings';
import type { VehiclePrediction } from './arrival-predictor.js';

const { transit_realtime: realtime } = GtfsRealtimeBindings;

/** The two GTFS-realtime feeds as encoded FeedMessage bytes. */
export interface RealtimeFeeds {
  tripUpdates: Uint8Array;
  vehiclePositions: Uint8Array;
  /** Unix time in seconds of the snapshot both feeds describe. */
  timestamp: number;
}

function header(timestamp: number): GtfsRealtimeBindings.transit_realtime.IFeedHeader {
  return { gtfsRealtimeVersion: '2.0', incrementality: realtime.FeedHeader.Incrementality.FULL_DATASET, timestamp };
}

function tripDescriptor(vehicle: VehiclePrediction): GtfsRealtimeBindings.transit_realtime.ITripDescriptor {
  return { tripId: vehicle.gtfsTripId, ...(vehicle.startTime === undefined ? {} : { startTime: vehicle.startTime }), routeId: vehicle.routeId, directionId: vehicle.directionId, startDate: vehicle.serviceDate.replaceAll('-', '') };
}

/**
 * Encodes a prediction snapshot as GTFS-realtime 2.0 FULL_DATASET messages: one TripUpdate per
 * active bus with a StopTimeUpdate (arrival time and delay) per predicted stop, and one
 * VehiclePosition per active bus.
 */
export function encodeRealtimeFeeds(vehicles: readonly VehiclePrediction[], timestamp: number): RealtimeFeeds {
  const tripUpdates = vehicles.map((vehicle) =>
    realtime.FeedEntity.encode({
      id: `trip-${vehicle.vehicleId}`,
      tripUpdate: {
        trip: tripDescriptor(vehicle),
        vehicle: { id: vehicle.vehicleId },
        timestamp: vehicle.timestamp,
        delay: vehicle.delayS,
        stopTimeUpdate: vehicle.stops.map((stop) => ({
          stopSequence: stop.stopIndex + 1,
          stopId: stop.stopId,
          arrival: { time: stop.predictedArrival, delay: stop.predictedArrival - stop.scheduledArrival },
        })),
      },
    }).finish(),
  );
  const vehiclePositions = vehicles.map((vehicle) =>
    realtime.FeedEntity.encode({
      id: `vehicle-${vehicle.vehicleId}`,
      vehicle: {
        trip: tripDescriptor(vehicle),
        vehicle: { id: vehicle.vehicleId },
        position: { latitude: vehicle.lat, longitude: vehicle.lon },
        currentStopSequence: vehicle.nextStopIndex + 1,
        ...(vehicle.stops[0] ? { stopId: vehicle.stops[0].stopId } : {}),
        currentStatus: realtime.VehiclePosition.VehicleStopStatus.IN_TRANSIT_TO,
        timestamp: vehicle.timestamp,
      },
    }).finish(),
  );
  const headerBytes = realtime.FeedHeader.encode(header(timestamp)).finish();
  return { tripUpdates: feedMessage(headerBytes, tripUpdates), vehiclePositions: feedMessage(headerBytes, vehiclePositions), timestamp };
}

/** FeedMessage field numbers, each written with wire type 2 (length-delimited). */
const HEADER_TAG = (1 << 3) | 2;
const ENTITY_TAG = (2 << 3) | 2;

/**
 * Frames an encoded header and entities as one FeedMessage. Entities are encoded one by one and
 * joined here, which is the same bytes as encoding the whole message at once but keeps each
 * encoder's buffers small and short-lived.
 */
function feedMessage(headerBytes: Uint8Array, entities: readonly Uint8Array[]): Uint8Array {
  let length = 1 + varintLength(headerBytes.length) + headerBytes.length;
  for (const entity of entities) length += 1 + varintLength(entity.length) + entity.length;
  const out = new Uint8Array(length);
  let offset = writeField(out, 0, HEADER_TAG, headerBytes);
  for (const entity of entities) offset = writeField(out, offset, ENTITY_TAG, entity);
  return out;
}

function writeField(out: Uint8Array, offset: number, tag: number, bytes: Uint8Array): number {
  out[offset++] = tag;
  let length = bytes.length;
  while (length >= 0x80) {
    out[offset++] = (length & 0x7f) | 0x80;
    length >>>= 7;
  }
  out[offset++] = length;
  out.set(bytes, offset);
  return offset + bytes.length;
}

function varintLength(value: number): number {
  let length = 1;
  while (value >= 0x80) {
    value >>>= 7;
    length += 1;
  }
  return length;
}

/** Decodes a GTFS-realtime FeedMessage, as a consumer of the feeds would. */
export function decodeRealtimeFeed(bytes: Uint8Array): GtfsRealtimeBindings.transit_realtime.FeedMessage {
  return realtime.FeedMessage.decode(bytes);
}
