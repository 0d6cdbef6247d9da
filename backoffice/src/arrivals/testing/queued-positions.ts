import type { VehicleFix } from '../matching/vehicle-events.js';
import type { PositionFeed } from '../realtime/sqlite-position-feed.js';

/** A position feed that returns each queued batch once, for tests that feed an ArrivalService by hand. */
export class QueuedPositions implements PositionFeed {
  pending: VehicleFix[] = [];

  readAfter(cursor: number): { fixes: VehicleFix[]; cursor: number } {
    const fixes = this.pending;
    this.pending = [];
    return { fixes, cursor: cursor + fixes.length };
  }

  close(): void {}
}
