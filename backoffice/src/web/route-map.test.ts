import { describe, expect, it } from 'vitest';
import { type MapVehicle, routeMapSvg, routeShapesFromParameters, routeShapesFromRoutesBody } from './route-map.js';
import { SAMPLE_ROUTES_BODY as ROUTES_BODY } from '../testing/sample-routes.js';

const vehicle = (vehicleId: string, lat: number, lon: number): MapVehicle => ({ terminalId: `T-${vehicleId}`, vehicleId, lat, lon, online: true });

/** x, y and anchor of each vehicle label in the drawn SVG. */
function labels(svg: string): { x: number; y: number; end: boolean; text: string }[] {
  return [...svg.matchAll(/<text x="([\d.-]+)" y="([\d.-]+)"( text-anchor="end")?>([^<]*)<\/text>/g)].map((match) => ({ x: Number(match[1]), y: Number(match[2]), end: match[3] !== undefined, text: match[4] as string }));
}

describe('routeShapesFromRoutesBody', () => {
  it('draws a route through its stops', () => {
    const [shape] = routeShapesFromRoutesBody(ROUTES_BODY);

    expect(shape?.label).toBe('8路');
    expect(shape?.points).toEqual([{ lat: 39.13, lon: 117.2 }, { lat: 39.14, lon: 117.21 }, { lat: 39.15, lon: 117.23 }]);
    expect(shape?.stops?.map((stop) => stop.name)).toEqual(['火车站', '鼓楼', '大学城']);
  });

  it('returns nothing for an invalid body', () => {
    expect(routeShapesFromRoutesBody({ stops: 'none' })).toEqual([]);
  });

  it('returns nothing before a routes set exists', () => {
    expect(routeShapesFromParameters({ latest: () => undefined })).toEqual([]);
  });
});

describe('routeMapSvg', () => {
  it('draws lines, stops and vehicles', () => {
    const svg = routeMapSvg(routeShapesFromRoutesBody(ROUTES_BODY), [vehicle('V001', 39.14, 117.21)], 'map');

    expect(svg).toContain('<polyline');
    expect(svg.match(/<circle class="stop"/g)).toHaveLength(3);
    expect(svg).toContain('<title>鼓楼</title>');
    expect(svg).toContain('>V001</text>');
  });

  it('keeps a label at the right edge inside', () => {
    const svg = routeMapSvg([], [vehicle('V001', 39.14, 117.3), vehicle('V002', 39.1, 117.2), vehicle('V003', 39.12, 117.25)], 'map');
    const right = labels(svg).find((label) => label.text === 'V001');

    expect(right?.end).toBe(true);
    expect(right?.x).toBeLessThan(720);
    for (const label of labels(svg)) {
      expect(label.y).toBeGreaterThan(10);
      expect(label.y).toBeLessThanOrEqual(416);
    }
  });

  it('keeps nearby vehicles together', () => {
    const svg = routeMapSvg([], [vehicle('V001', 39.1400, 117.2000), vehicle('V002', 39.1401, 117.2002), vehicle('V003', 39.1402, 117.2001)], 'map');
    const xs = [...svg.matchAll(/<circle cx="([\d.]+)"/g)].map((match) => Number(match[1]));

    expect(xs).toHaveLength(3);
    expect(Math.max(...xs) - Math.min(...xs)).toBeLessThan(50);
    expect(Math.min(...xs)).toBeGreaterThan(300);
  });

  it('draws nothing without data', () => {
    expect(routeMapSvg([], [], 'map')).toBe('');
  });
});
