export * from './gtfs-model.js';
export { GtfsStopTimes } from './gtfs-stop-times.js';
export { GtfsFeedError, importGtfsFeed } from './gtfs-feed.js';
export { parseGtfsTime, formatGtfsTime } from './gtfs-time.js';
export { serviceRunsOn, tripDepartures } from './gtfs-service.js';
export { routesBodyFromFeed } from './routes-from-feed.js';
