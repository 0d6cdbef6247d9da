import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { PerformanceObserver, constants as performanceConstants, performance } from 'node:perf_hooks';
import { defaultFareTable } from '@busfare/backoffice';
import { ApduSecureAccessModule, SqliteTransactionStore, TapProcessor, missingTerminalNodeFlags, type ApduTransport, type CardSession } from '@busfare/terminal';
import pino from 'pino';
import { createSweepCard, type SweepCard, type SweepCardKind } from '../bench/tearing-cards.js';
import { ALL_BENCH_ISSUERS, BENCH_LOCAL_CITY_CODE } from '../keys/test-keys.js';
import { PsamTransport } from '../psam/psam-transport.js';
import { SoftwarePsam } from '../psam/software-psam.js';
import { InProcessCardReader } from '../reader/in-process-reader.js';
import { waitLinkLatency } from '../reader/link-latency.js';
import { runGroupInChildProcess } from './child-group.js';
import { type BenchmarkFigure, type BenchmarkGroup, quantile } from './figure.js';

/** Link latencies of a real bus reader: contactless card APDU and contact PSAM APDU. */
const CARD_APDU_MS = 6;
const PSAM_APDU_MS = 15;
const TAPS_PER_VARIANT = 500;
const WARM_UP_TAPS = 10;

const VARIANTS: readonly { name: string; kind: SweepCardKind }[] = [
  { name: 'tunion-cpu', kind: 'tunion-cpu' },
  { name: 'tunion-phone', kind: 'tunion-hce' },
  { name: 'mohurd-cpu', kind: 'mohurd-cpu' },
  { name: 'm1', kind: 'm1' },
];

/**
 * The times the card or the PSAM side was busy during one tap. The terminal may have an APDU in
 * flight on each link at once, so the device side's share is the length of the union of these
 * intervals, not their sum.
 */
class DeviceTimeline {
  private intervals: [number, number][] = [];

  add(start: number, end: number): void {
    if (end > start) this.intervals.push([start, end]);
  }

  /** Returns the length of the union of the intervals so far within [from, to], and clears them. */
  takeBusyMs(from = -Infinity, to = Infinity): number {
    const sorted = this.intervals
      .map(([start, end]): [number, number] => [Math.max(start, from), Math.min(end, to)])
      .filter(([start, end]) => end > start)
      .sort((a, b) => a[0] - b[0]);
    this.intervals = [];
    let busy = 0;
    let [start, end] = sorted[0] ?? [0, 0];
    for (const [nextStart, nextEnd] of sorted.slice(1)) {
      if (nextStart > end) {
        busy += end - start;
        start = nextStart;
      }
      end = Math.max(end, nextEnd);
    }
    return busy + (end - start);
  }
}

/**
 * Adds a simulated link time to every APDU and records the time the device side accounts for:
 * the link wait and the simulated card's or PSAM's computing, measured. A wait can end late because
 * the main thread was still busy, with a SQLite commit made while the APDU was in flight, when the
 * link time had passed. That excess is software, so a wait is counted only up to the link time
 * plus the time the event loop sat idle in it (performance.eventLoopUtilization). The idle time
 * includes the timer's own overshoot, which is not the terminal's. This assumes the main-thread
 * work during a wait starts when the APDU is sent, as in the tap path.
 */
class TimedLink implements ApduTransport {
  constructor(
    private readonly inner: ApduTransport,
    private readonly latencyMs: number,
    private readonly timeline: DeviceTimeline,
  ) {}

  async transmit(command: Uint8Array): Promise<Uint8Array> {
    const sent = performance.now();
    const idleBefore = performance.eventLoopUtilization().idle;
    await waitLinkLatency(this.latencyMs);
    const idleMs = performance.eventLoopUtilization().idle - idleBefore;
    const waitMs = Math.min(performance.now() - sent, this.latencyMs + idleMs);
    // The simulated card or PSAM computing its answer stands for the device's own processing,
    // which on real hardware is part of the per-APDU link time, so it is not the terminal's share.
    const computing = performance.now();
    const response = await this.inner.transmit(command);
    this.timeline.add(sent, sent + waitMs);
    this.timeline.add(computing, performance.now());
    return response;
  }
}

/**
 * Tap to feedback at a bus reader's link latencies: the terminal's real tap path (selection,
 * PSAM, SQLite outbox with synchronous=FULL) against virtual cards, timed from the card's arrival
 * to the rider feedback, with the idle housekeeping between taps. The software's own share is the
 * total minus the time the device side was busy (TimedLink, DeviceTimeline): the link waits,
 * timer overshoot included, and the simulated card's or PSAM's computing. Main-thread work that outlasts an APDU
 * in flight counts as software. The taps run in a process with the terminal's V8 flags, as on a bus.
 */
export const tapBenchmark: BenchmarkGroup = async ({ log }) => {
  const missingFlags = missingTerminalNodeFlags();
  if (missingFlags.length > 0) {
    log(`running in a child process with the terminal's V8 flags: node ${missingFlags.join(' ')}`);
    return runGroupInChildProcess('tap', [...process.execArgv, ...missingFlags]);
  }
  const dataDir = mkdtempSync(join(tmpdir(), 'busfare-tap-bench-'));
  const figures: BenchmarkFigure[] = [];
  const logger = pino({ level: 'silent' });
  const store = SqliteTransactionStore.open(join(dataDir, 'tap-bench.db'), { logger });
  // Full garbage collections stall the main thread for milliseconds, so the log names them per variant.
  const majorCollectionsMs: number[] = [];
  const collections = new PerformanceObserver((list) => {
    for (const entry of list.getEntries()) {
      const kind = (entry as PerformanceEntry & { detail?: { kind?: number } }).detail?.kind;
      if (kind === performanceConstants.NODE_PERFORMANCE_GC_MAJOR) majorCollectionsMs.push(entry.duration);
    }
  });
  collections.observe({ entryTypes: ['gc'] });
  try {
    const timeline = new DeviceTimeline();
    const psamLink = new TimedLink(new PsamTransport(new SoftwarePsam({ terminalNumber: '000058109902', issuers: ALL_BENCH_ISSUERS })), PSAM_APDU_MS, timeline);
    const sam = new ApduSecureAccessModule(psamLink);
    await sam.open();
    const fareTable = defaultFareTable([BENCH_LOCAL_CITY_CODE]);
    let feedbackAt = 0;
    const processor = new TapProcessor({
      store,
      sam,
      fareTables: { activeFareTable: () => fareTable },
      trip: () => ({ vehicleId: 'V-BENCH', route: '1', direction: 0 }),
      clock: { now: () => new Date(), monotonicMs: () => performance.now() },
      feedback: { show: () => (feedbackAt = performance.now()) },
      logger,
    });
    const reader = new InProcessCardReader({ name: 'benchmark reader' });
    await reader.start();

    for (const variant of VARIANTS) {
      const cards: SweepCard[] = Array.from({ length: 20 }, (_, index) => createSweepCard(variant.kind, 900_000 + index, 1_000_000));
      const totals: number[] = [];
      const software: number[] = [];
      const apdus: number[] = [];
      majorCollectionsMs.length = 0;
      for (let tap = 0; tap < WARM_UP_TAPS + TAPS_PER_VARIANT; tap += 1) {
        // Riders tap a second or more apart, so the processor's idle housekeeping (a WAL checkpoint
        // every 32 tap commits) runs between taps. The benchmark runs it at once instead of 250 ms later.
        store.maintainWhileIdle();
        const session = reader.present(cards[tap % cards.length]!);
        const cardLink = new TimedLink(session, CARD_APDU_MS, timeline);
        const timedSession: CardSession = { id: session.id, atr: session.atr, protocol: session.protocol, uid: session.uid, transmit: (command) => cardLink.transmit(command) };
        // The PSAM was opened, and each tap's housekeeping runs, outside the timed part.
        timeline.takeBusyMs();
        const started = performance.now();
        const outcome = await processor.process(timedSession);
        const total = feedbackAt - started;
        reader.remove();
        if (outcome.status !== 'accepted') throw new Error(`benchmark tap of ${variant.name} ended ${outcome.status}: ${outcome.reason ?? outcome.promptId}`);
        if (tap < WARM_UP_TAPS) continue;
        totals.push(total);
        software.push(total - timeline.takeBusyMs(started, feedbackAt));
        apdus.push(outcome.cardApdus + outcome.psamApdus);
      }
      // Observer callbacks run on a later turn of the event loop.
      await new Promise((resolve) => setImmediate(resolve));
      const collectionMs = majorCollectionsMs.reduce((sum, ms) => sum + ms, 0);
      const p50 = quantile(totals, 0.5);
      const p99 = quantile(totals, 0.99);
      log(`${variant.name}: p50 ${p50.toFixed(1)} ms, p99 ${p99.toFixed(1)} ms, software p50 ${quantile(software, 0.5).toFixed(2)} ms, p99 ${quantile(software, 0.99).toFixed(2)} ms, ${quantile(apdus, 0.5)} APDUs, ${majorCollectionsMs.length} full garbage collections (${collectionMs.toFixed(1)} ms)`);
      figures.push(
        { name: `tap_to_feedback_ms.p50.${variant.name}`, value: round(p50), unit: 'ms' },
        { name: `tap_to_feedback_ms.p99.${variant.name}`, value: round(p99), unit: 'ms' },
        { name: `tap_software_ms.p99.${variant.name}`, value: round(quantile(software, 0.99)), unit: 'ms' },
        { name: `tap_apdus.${variant.name}`, value: quantile(apdus, 0.5), unit: 'apdus' },
      );
    }
    await reader.stop();
    return figures;
  } finally {
    collections.disconnect();
    store.close();
    rmSync(dataDir, { recursive: true, force: true });
  }
};

function round(value: number): number {
  return Math.round(value * 100) / 100;
}
