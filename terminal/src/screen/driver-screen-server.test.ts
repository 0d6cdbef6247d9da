import { request } from 'node:http';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { EventEmitter } from 'node:events';
import { afterEach, describe, expect, it } from 'vitest';
import pino from 'pino';
import type { RoutesBody } from '@busfare/shared-protocol';
import { ManualClock } from '../ports/clock.js';
import type { TerminalRuntimeEvents } from '../runtime/terminal-runtime.js';
import { DriverShift } from '../shift/driver-shift.js';
import { serviceChoicesFromRoutes } from '../shift/service-choices.js';
import { ShiftStore } from '../shift/shift-store.js';
import type { TapOutcome } from '../tap/tap-outcome.js';
import { ServiceStops } from '../trip/service-stops.js';
import { DriverScreenServer } from './driver-screen-server.js';
import { DriverScreenState } from './driver-screen-state.js';

const logger = pino({ level: 'silent' });
const ROUTES: RoutesBody = {
  stops: [
    { id: 'S1', name: '火车站', lat: 30.0, lon: 120.0 },
    { id: 'S2', name: '人民广场', lat: 30.01, lon: 120.0 },
    { id: 'S3', name: '体育馆', lat: 30.02, lon: 120.0 },
  ],
  routes: [{ id: '5', shortName: '5路', longName: '火车站—体育馆', patterns: [{ direction: 0, headsign: '体育馆', stops: ['S1', 'S2', 'S3'], loop: false }] }],
};

let cleanup: Array<() => Promise<void> | void> = [];
afterEach(async () => {
  for (const step of cleanup.reverse()) await step();
  cleanup = [];
});

async function startScreen() {
  const dir = mkdtempSync(join(tmpdir(), 'busfare-screen-'));
  // Cleanup runs in reverse order, so the folder goes after the server and the database close.
  cleanup.push(() => rmSync(dir, { recursive: true, force: true }));
  const store = ShiftStore.open(join(dir, 'shifts.db'));
  const clock = new ManualClock();
  const shift = new DriverShift({ terminalId: 'T009', vehicleId: 'V009', store, clock, logger, lastSequence: () => 0, serviceChoices: () => serviceChoicesFromRoutes(ROUTES) });
  const runtime = new EventEmitter<TerminalRuntimeEvents>();
  const stops = new ServiceStops(() => ROUTES);
  let connected = true;
  const state = new DriverScreenState({
    terminalId: 'T009',
    vehicleId: 'V009',
    shift,
    clock,
    link: () => ({ connected, backlog: 3 }),
    parameters: () => ({ active: { 'fare-table': 4, routes: 2 }, pending: {} }),
    stopProgress: () => stops.progress(shift.current() ?? {}),
    hasFareTable: () => true,
  });
  state.attach(runtime, { positions: new EventEmitter() as never });
  const server = new DriverScreenServer({ state, shift, logger, port: 0 });
  const url = await server.start();
  cleanup.push(() => store.close(), () => server.stop());
  return { url, state, shift, runtime, stops, clock, setConnected: (value: boolean) => (connected = value) };
}

async function post(url: string, path: string, body: string, contentType = 'application/json') {
  const response = await fetch(new URL(path, url), { method: 'POST', headers: { 'content-type': contentType }, body });
  return { status: response.status, body: (await response.json()) as { code?: string; message?: string } };
}

describe('DriverScreenServer', () => {
  it('serves the page, its assets and the state', async () => {
    const { url } = await startScreen();
    expect(url).toMatch(/^http:\/\/127\.0\.0\.1:\d+\/$/);
    const page = await fetch(url);
    expect(page.status).toBe(200);
    expect(page.headers.get('content-security-policy')).toContain("script-src 'self'");
    // An empty inline icon keeps the kiosk browser from requesting /favicon.ico, which has no route.
    expect(page.headers.get('content-security-policy')).toContain('img-src data:');
    const html = await page.text();
    expect(html).toContain('<title>司机屏</title>');
    expect(html).toContain('"driver.signOn.prompt"');
    expect(html).toContain('<link rel="icon" href="data:,">');
    expect((await fetch(new URL('/driver.js', url))).headers.get('content-type')).toContain('javascript');
    expect((await fetch(new URL('/driver.css', url))).status).toBe(200);
    const state = (await (await fetch(new URL('/api/state', url))).json()) as { shift: unknown; link: unknown; utcOffsetMinutes: number };
    expect(state.shift).toBeNull();
    expect(state.link).toEqual({ connected: true, backlog: 3 });
    // Without a configured offset the page shows China Standard Time.
    expect(state.utcOffsetMinutes).toBe(480);
  });

  it('runs a shift through the API', async () => {
    const { url, runtime, stops } = await startScreen();
    expect((await post(url, '/api/shift/sign-on', JSON.stringify({ driverId: '8123' }))).status).toBe(200);
    const state1 = (await (await fetch(new URL('/api/state', url))).json()) as { serviceChoices: unknown[] };
    expect(state1.serviceChoices).toEqual([{ route: '5', direction: 0, routeName: '5路', headsign: '体育馆' }]);
    expect((await post(url, '/api/shift/service', JSON.stringify({ route: '5', direction: 0 }))).status).toBe(200);

    const tap: TapOutcome = { status: 'accepted', promptId: 'card-type-student', cardType: 'student', amountFen: 100, balanceFen: 900, cardApdus: 4, psamApdus: 2, durationMs: 40 };
    runtime.emit('tap', tap, {} as never);
    stops.update({ route: '5', direction: 0 }, 30.01, 120.0);
    runtime.emit('fix', { time: new Date(), lat: 30.01, lon: 120.0, talker: 'GN' });
    const state2 = (await (await fetch(new URL('/api/state', url))).json()) as { lastTap: { promptId: string }; stops: unknown; shift: { counters: { amountFen: number } } };
    expect(state2.lastTap.promptId).toBe('card-type-student');
    expect(state2.stops).toEqual({ current: '人民广场', next: '体育馆' });
    expect(state2.shift.counters.amountFen).toBe(100);

    const signOff = await post(url, '/api/shift/sign-off', '{}');
    expect(signOff.status).toBe(200);
    expect(signOff.body).toMatchObject({ driverId: '8123', route: '5' });
  });

  it('shows a driver card tap without counting it', async () => {
    const { state, shift, runtime } = await startScreen();
    shift.signOn('8123', 'card');
    const tap: TapOutcome = { status: 'refused', promptId: 'driver-sign-off-first', driverCard: { action: 'rejected', driverId: '9001' }, cardApdus: 3, psamApdus: 0, durationMs: 30 };
    runtime.emit('tap', tap, {} as never);
    const snapshot = state.snapshot();
    expect(snapshot.lastTap).toMatchObject({ status: 'refused', promptId: 'driver-sign-off-first', driverCard: { action: 'rejected', driverId: '9001' } });
    expect(snapshot.shift?.counters.taps).toBe(0);
    expect(snapshot.shift?.driverId).toBe('8123');
  });

  it('streams state as Server-Sent Events', async () => {
    const { url } = await startScreen();
    const controller = new AbortController();
    const response = await fetch(new URL('/events', url), { signal: controller.signal });
    expect(response.headers.get('content-type')).toContain('text/event-stream');
    const reader = response.body!.getReader();
    let text = '';
    while (!text.includes('event: state')) text += new TextDecoder().decode((await reader.read()).value);
    expect(text).toContain('"terminalId":"T009"');
    controller.abort();
  });

  it('rejects invalid requests', async () => {
    const { url } = await startScreen();
    const cases: Array<[string, string, string | undefined, number, string | undefined]> = [
      ['/api/shift/sign-on', '{"driverId":"a b"}', undefined, 400, 'invalid-driver'],
      ['/api/shift/sign-on', '{"driverId":12}', undefined, 400, 'invalid-request'],
      ['/api/shift/sign-on', '{"driverId":"D1","extra":1}', undefined, 400, 'invalid-request'],
      ['/api/shift/sign-on', '{not json', undefined, 400, undefined],
      ['/api/shift/sign-on', 'driverId=D1', 'application/x-www-form-urlencoded', 415, undefined],
      ['/api/shift/sign-off', '{}', undefined, 409, 'not-signed-on'],
      ['/api/shift/service', '{"route":"5","direction":0}', undefined, 409, 'not-signed-on'],
    ];
    for (const [path, body, contentType, status, code] of cases) {
      const response = await post(url, path, body, contentType);
      expect(response.status, `${path} ${body}`).toBe(status);
      if (code) expect(response.body.code, `${path} ${body}`).toBe(code);
    }
    await post(url, '/api/shift/sign-on', '{"driverId":"D1"}');
    expect((await post(url, '/api/shift/sign-on', '{"driverId":"D2"}')).body.code).toBe('already-signed-on');
    expect((await post(url, '/api/shift/service', '{"route":"5","direction":1}')).body.code).toBe('unknown-service');
    expect((await post(url, '/api/shift/service', '{"route":"5","direction":2}')).body.code).toBe('invalid-request');
    expect((await post(url, '/api/shift/sign-off', '{"now":1}')).body.code).toBe('invalid-request');
  });

  it('rejects a request for another host name', async () => {
    const { url } = await startScreen();
    const status = await new Promise<number>((resolve, reject) => {
      const outgoing = request(url, { headers: { host: 'rebind.example:80' } }, (response) => {
        response.resume();
        resolve(response.statusCode ?? 0);
      });
      outgoing.on('error', reject);
      outgoing.end();
    });
    expect(status).toBe(421);
  });

  it('derives alerts the driver must see', async () => {
    const { state, runtime, clock, setConnected } = await startScreen();
    expect(state.snapshot().alerts).toEqual([]);
    setConnected(false);
    runtime.emit('tap', { status: 'in-doubt', promptId: 'tap-again', asn: '5810000000000001', cardApdus: 5, psamApdus: 2, durationMs: 90 }, {} as never);
    clock.advance(31_000);
    state.raiseAlert({ id: 'psam-fault', severity: 'critical', messageId: 'alert.psam-fault' });
    expect(state.snapshot().alerts.map((alert) => alert.id)).toEqual(['psam-fault', 'card-in-doubt', 'gps-lost', 'link-offline']);
    runtime.emit('tap', { status: 'accepted', promptId: 'fare-paid', asn: '5810000000000001', amountFen: 200, cardApdus: 5, psamApdus: 2, durationMs: 90 }, {} as never);
    state.clearAlert('psam-fault');
    setConnected(true);
    expect(state.snapshot().alerts.map((alert) => alert.id)).toEqual(['gps-lost']);
  });
});
