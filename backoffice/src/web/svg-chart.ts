import { formatYuan } from '@busfare/shared-protocol';
import { escapeHtml } from './html.js';

export interface HourlyBar {
  hour: number;
  taps: number;
  amountFen: number;
}

const WIDTH = 720;
const HEIGHT = 220;
const MARGIN = { left: 40, right: 50, top: 10, bottom: 24 };

/**
 * Draws taps per hour as bars (left axis) and revenue per hour as a line (right axis), as inline
 * SVG with a title and a description, so the page needs no script or external asset.
 */
export function hourlyChartSvg(hours: readonly HourlyBar[], labels: { title: string; taps: string; revenue: string }): string {
  const plotWidth = WIDTH - MARGIN.left - MARGIN.right;
  const plotHeight = HEIGHT - MARGIN.top - MARGIN.bottom;
  const peakTaps = Math.max(0, ...hours.map((hour) => hour.taps));
  const peakFen = Math.max(0, ...hours.map((hour) => hour.amountFen));
  // The scales divide by at least 1 so that an empty day draws flat at the axis.
  const maxTaps = Math.max(1, peakTaps);
  const maxFen = Math.max(1, peakFen);
  const slot = plotWidth / 24;
  const x = (hour: number) => MARGIN.left + hour * slot;
  const yTaps = (taps: number) => MARGIN.top + plotHeight - (taps / maxTaps) * plotHeight;
  const yFen = (fen: number) => MARGIN.top + plotHeight - (fen / maxFen) * plotHeight;

  const bars = hours
    .map((hour) => {
      const top = yTaps(hour.taps);
      return `<rect class="bar" x="${(x(hour.hour) + 2).toFixed(1)}" y="${top.toFixed(1)}" width="${(slot - 4).toFixed(1)}" height="${(MARGIN.top + plotHeight - top).toFixed(1)}" fill="#5b8fc7"><title>${hour.hour}:00 ${hour.taps} / ¥${formatYuan(hour.amountFen)}</title></rect>`;
    })
    .join('');
  const line = hours.map((hour) => `${(x(hour.hour) + slot / 2).toFixed(1)},${yFen(hour.amountFen).toFixed(1)}`).join(' ');
  const ticks = [0, 6, 12, 18, 23].map((hour) => `<text x="${(x(hour) + slot / 2).toFixed(1)}" y="${HEIGHT - 8}" text-anchor="middle">${hour}</text>`).join('');
  const summary = hours.filter((hour) => hour.taps > 0).map((hour) => `${hour.hour}:00 ${hour.taps} ¥${formatYuan(hour.amountFen)}`).join(', ');

  return `<svg id="hourly-chart" role="img" aria-labelledby="hourly-title hourly-desc" viewBox="0 0 ${WIDTH} ${HEIGHT}" width="${WIDTH}" height="${HEIGHT}" xmlns="http://www.w3.org/2000/svg">
<title id="hourly-title">${escapeHtml(labels.title)}</title>
<desc id="hourly-desc">${escapeHtml(summary)}</desc>
<rect x="0" y="0" width="${WIDTH}" height="${HEIGHT}" fill="#fff"/>
<line x1="${MARGIN.left}" y1="${MARGIN.top + plotHeight}" x2="${WIDTH - MARGIN.right}" y2="${MARGIN.top + plotHeight}" stroke="#888"/>
${bars}
<polyline points="${line}" fill="none" stroke="#d0632b" stroke-width="2"/>
${ticks}
<text x="4" y="${MARGIN.top + 8}">${peakTaps}</text>
<text x="${WIDTH - MARGIN.right + 4}" y="${MARGIN.top + 8}" fill="#d0632b">¥${formatYuan(peakFen)}</text>
<text x="${MARGIN.left}" y="${MARGIN.top + 8}" dx="4" fill="#5b8fc7">${escapeHtml(labels.taps)}</text>
<text x="${WIDTH - MARGIN.right - 4}" y="${MARGIN.top + 8}" text-anchor="end" fill="#d0632b">${escapeHtml(labels.revenue)}</text>
</svg>`;
}
