import { type LatLon, distanceM, projectOntoSegment } from '../../gtfs/geo.js';

/** A point's place on a line: metres along it from the start, and metres off it. */
export interface LinePosition {
  distanceM: number;
  offsetM: number;
}

/** A polyline (a GTFS shape or the straight line through a trip's stops) measured in metres along. */
export class ShapeLine {
  readonly points: readonly LatLon[];
  /** Metres from the first point to each point. */
  readonly cumulativeM: Float64Array;

  constructor(points: readonly LatLon[]) {
    if (points.length < 2) throw new RangeError(`a shape line needs two or more points, got ${points.length}`);
    this.points = points;
    this.cumulativeM = new Float64Array(points.length);
    for (let i = 1; i < points.length; i += 1) this.cumulativeM[i] = this.cumulativeM[i - 1]! + distanceM(points[i - 1]!, points[i]!);
  }

  get lengthM(): number {
    return this.cumulativeM[this.cumulativeM.length - 1]!;
  }

  /**
   * Projects a point onto the line between fromM and toM metres along (the whole line by default),
   * returning the nearest place. Limiting the range keeps a loop route or a road driven twice from
   * matching the wrong pass.
   */
  locate(point: LatLon, fromM = 0, toM = Infinity): LinePosition {
    let best: LinePosition = { distanceM: 0, offsetM: Infinity };
    for (let i = 0; i < this.points.length - 1; i += 1) {
      const startM = this.cumulativeM[i]!;
      const endM = this.cumulativeM[i + 1]!;
      if (endM < fromM || startM > toM) continue;
      const { fraction, offsetM } = projectOntoSegment(point, this.points[i]!, this.points[i + 1]!);
      const along = Math.min(toM, Math.max(fromM, startM + fraction * (endM - startM)));
      if (offsetM < best.offsetM) best = { distanceM: along, offsetM };
    }
    return best;
  }

  /**
   * Like locate, but of the places within toleranceM of the nearest one it returns the first along
   * the line, so a stop on a road the line drives twice lands on the earlier pass.
   */
  locateFirst(point: LatLon, fromM = 0, toleranceM = 10): LinePosition {
    const nearest = this.locate(point, fromM);
    for (let i = 0; i < this.points.length - 1; i += 1) {
      const startM = this.cumulativeM[i]!;
      const endM = this.cumulativeM[i + 1]!;
      if (endM < fromM) continue;
      const { fraction, offsetM } = projectOntoSegment(point, this.points[i]!, this.points[i + 1]!);
      if (offsetM <= nearest.offsetM + toleranceM) return { distanceM: Math.max(fromM, startM + fraction * (endM - startM)), offsetM };
    }
    return nearest;
  }
}
