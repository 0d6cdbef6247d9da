import { join } from 'node:path';
import type { TapOutcome } from '@busfare/terminal';
import type { BenchCity } from './bench-city.js';
import type { BenchReport, TapRecordOutcome } from './bench-report.js';

/** The line printed when a run stops its riders, before it drains the terminals' backlogs. */
export const DRAINING_LINE = '停止乘客，清空积压 Stopping riders and draining backlogs...';

/** The city's record counts beside the taps on one progress line. */
export interface ProgressCounts {
  /** Seconds since the run started. */
  seconds: number;
  stored: number;
  synced: number;
  cleared: number;
  backlog: number;
}

/**
 * Lists the addresses a person opens during `busfare-bench run`, one bilingual line each: the
 * consoles, the driver screens, the broker, the rider API and a stop page (with GPS), the data
 * folder and the log file.
 */
export function addressLines(city: BenchCity, logFile: string): string[] {
  const consoleUrl = city.office.consoleUrl;
  const lines = [
    `控制台 Console: ${consoleUrl}`,
    `运营控制台 Operator console: ${new URL('/ops', consoleUrl).href} (admin; 密码 password: ${join(city.dataDir, 'backoffice.db.admin-password')})`,
    ...city.buses.map((bus) => `司机屏 Driver screen ${bus.terminalId}: ${bus.driverScreenUrl ?? '-'}`),
    `MQTT 服务器 MQTT broker: ${city.office.brokerUrl}`,
  ];
  const stopId = city.sampleStopId();
  if (stopId !== undefined) {
    lines.push(`到站预测 Arrivals: ${new URL('/api/rider/vehicles/V001', consoleUrl).href}  GTFS-realtime: ${new URL('/gtfs-rt/trip-updates', consoleUrl).href} ${new URL('/gtfs-rt/vehicle-positions', consoleUrl).href}`);
    lines.push(`站点页面 Stop page: ${new URL(`/rider/stops/${encodeURIComponent(stopId)}`, consoleUrl).href}`);
  }
  lines.push(`数据目录 Data: ${city.dataDir}`, `日志 Log: ${logFile}`);
  return lines;
}

/** Reads the city's record counts for a progress line. */
export function cityProgress(city: BenchCity, started: number): ProgressCounts {
  return {
    seconds: Math.round((Date.now() - started) / 1000),
    stored: city.stored(),
    synced: city.synced(),
    cleared: city.office.summary().recordsCleared,
    backlog: city.backlog(),
  };
}

/**
 * Formats the progress line. Accepted, refused, in-doubt and failed taps add up to the taps, as
 * the report's tapsAccepted, tapsRefused, inDoubt and tapsFailed do.
 */
export function summaryLine(taps: readonly TapRecordOutcome[], counts: ProgressCounts): string {
  const count = (status: TapOutcome['status']) => taps.filter((tap) => tap.outcome.status === status).length;
  return (
    `[${counts.seconds}s] 刷卡 taps ${taps.length}  成功 accepted ${count('accepted') + count('recovered')}  拒绝 refused ${count('refused')}  ` +
    `灰记录 in-doubt ${count('in-doubt')}  失败 failed ${count('failed')}  ` +
    `存储 stored ${counts.stored}  已上传 synced ${counts.synced}  已清分 cleared ${counts.cleared}  积压 backlog ${counts.backlog}`
  );
}

export function reportLine(report: BenchReport): string {
  return `台架报告 bench report: tapsAccepted ${report.tapsAccepted}, recordsCleared ${report.recordsCleared}, lost ${report.lost}, duplicates ${report.duplicates}, cardLedgerMismatch ${report.cardLedgerMismatch}, inDoubtOpen ${report.inDoubtOpen}`;
}
