import type { RoutesBody } from '@busfare/shared-protocol';

/** A routes parameter body with one route through three stops, for map and route tests. */
export const SAMPLE_ROUTES_BODY: RoutesBody = {
  stops: [
    { id: 'S1', name: '火车站', lat: 39.13, lon: 117.2 },
    { id: 'S2', name: '鼓楼', lat: 39.14, lon: 117.21 },
    { id: 'S3', name: '大学城', lat: 39.15, lon: 117.23 },
  ],
  routes: [{ id: '8', shortName: '8路', longName: '火车站—大学城', patterns: [{ direction: 0, stops: ['S1', 'S2', 'S3'], loop: false }] }],
};
