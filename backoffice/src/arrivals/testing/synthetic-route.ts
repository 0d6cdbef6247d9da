import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { formatGtfsTime } from '../../gtfs/gtfs-time.js';

/** Chinese names of the synthetic route's stops, west to east. */
export const SYNTHETIC_STOP_NAMES = ['火车站', '人民路', '观前街', '乐桥', '南门', '三元坊', '工业园', '星海街', '湖西', '金鸡湖'];
export const SYNTHETIC_ORIGIN = { lat: 31.3, lon: 120.6 };
export const SYNTHETIC_STOP_SPACING_M = 500;
/** Scheduled running time between neighbouring stops (s) and dwell at each stop (s). */
export const SYNTHETIC_RUN_S = 60;
export const SYNTHETIC_DWELL_S = 20;
const METRES_PER_DEG_LON = 111_320 * Math.cos((SYNTHETIC_ORIGIN.lat * Math.PI) / 180);

/** Returns the point metres east of the route's first stop, on the straight east-west road. */
export function pointAlong(metres: number, northM = 0): { lat: number; lon: number } {
  return { lat: SYNTHETIC_ORIGIN.lat + northM / 111_320, lon: SYNTHETIC_ORIGIN.lon + metres / METRES_PER_DEG_LON };
}

/**
 * Writes a small GTFS feed to `folder`. Route "1" runs on a straight east-west road with ten stops
 * 500 m apart, direction 0 eastbound and 1 westbound. A trip leaves each way every 10 minutes from
 * fromHour to toHour (06:00 to 22:00 by default) on every day of 2020-2099, in Asia/Shanghai, with
 * trip ids `E0600`, `W0605`, ….
 */
export function writeSyntheticFeed(folder: string, hours: { fromHour: number; toHour: number } = { fromHour: 6, toHour: 22 }): void {
  mkdirSync(folder, { recursive: true });
  const count = SYNTHETIC_STOP_NAMES.length;
  const lengthM = (count - 1) * SYNTHETIC_STOP_SPACING_M;
  const lines = (header: string, rows: string[]): string => `${[header, ...rows].join('\n')}\n`;
  writeFileSync(join(folder, 'agency.txt'), lines('agency_id,agency_name,agency_url,agency_timezone', ['bus,苏州公交,https://bus.example.cn,Asia/Shanghai']));
  writeFileSync(join(folder, 'routes.txt'), lines('route_id,agency_id,route_short_name,route_long_name,route_type', ['1,bus,1,火车站—金鸡湖,3']));
  writeFileSync(join(folder, 'calendar.txt'), lines('service_id,monday,tuesday,wednesday,thursday,friday,saturday,sunday,start_date,end_date', ['all,1,1,1,1,1,1,1,20200101,20991231']));
  writeFileSync(
    join(folder, 'stops.txt'),
    lines('stop_id,stop_name,stop_lat,stop_lon', SYNTHETIC_STOP_NAMES.map((name, index) => {
      const point = pointAlong(index * SYNTHETIC_STOP_SPACING_M, 8);
      return `s${index},${name},${point.lat.toFixed(7)},${point.lon.toFixed(7)}`;
    })),
  );
  const shape = (id: string, reverse: boolean): string[] =>
    Array.from({ length: 19 }, (_, index) => {
      const point = pointAlong(reverse ? lengthM - index * 250 : index * 250);
      return `${id},${point.lat.toFixed(7)},${point.lon.toFixed(7)},${index + 1}`;
    });
  writeFileSync(join(folder, 'shapes.txt'), lines('shape_id,shape_pt_lat,shape_pt_lon,shape_pt_sequence', [...shape('east', false), ...shape('west', true)]));

  const trips: string[] = [];
  const stopTimes: string[] = [];
  for (let start = hours.fromHour * 3600; start <= hours.toHour * 3600; start += 600) {
    for (const [direction, prefix, shapeId] of [[0, 'E', 'east'], [1, 'W', 'west']] as const) {
      const first = start + direction * 300;
      const id = `${prefix}${formatGtfsTime(first).slice(0, 5).replace(':', '')}`;
      trips.push(`1,all,${id},${SYNTHETIC_STOP_NAMES[direction === 0 ? count - 1 : 0]},${direction},${shapeId}`);
      for (let index = 0; index < count; index += 1) {
        const stopIndex = direction === 0 ? index : count - 1 - index;
        const arrival = index === 0 ? first : first + index * SYNTHETIC_RUN_S + (index - 1) * SYNTHETIC_DWELL_S;
        const departure = index === 0 ? arrival : arrival + SYNTHETIC_DWELL_S;
        stopTimes.push(`${id},${formatGtfsTime(arrival)},${formatGtfsTime(departure)},s${stopIndex},${index + 1}`);
      }
    }
  }
  writeFileSync(join(folder, 'trips.txt'), lines('route_id,service_id,trip_id,trip_headsign,direction_id,shape_id', trips));
  writeFileSync(join(folder, 'stop_times.txt'), lines('trip_id,arrival_time,departure_time,stop_id,stop_sequence', stopTimes));
}
