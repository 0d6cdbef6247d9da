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
  return { tripId: vehicle.tripId, routeId: vehicle.routeId, directionId: vehicle.directionId, startDate: vehicle.serviceDate.replaceAll('-', '') };
}

/**
 * Encodes a prediction snapshot as GTFS-realtime 2.0 FULL_DATASET messages: one TripUpdate per
 * active bus with a StopTimeUpdate (arrival time and delay) per predicted stop, and one
 * VehiclePosition per active bus.
 */
export function encodeRealtimeFeeds(vehicles: readonly VehiclePrediction[], timestamp: number): RealtimeFeeds {
  const tripUpdates = realtime.FeedMessage.encode({
    header: header(timestamp),
    entity: vehicles.map((vehicle) => ({
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
    })),
  }).finish();

  const vehiclePositions = realtime.FeedMessage.encode({
    header: header(timestamp),
    entity: vehicles.map((vehicle) => ({
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
    })),
  }).finish();

  return { tripUpdates, vehiclePositions, timestamp };
}
