// A small SVG of throughput and p99 latency against connections, generated as a string (no plotting dependency).
import type { ScenarioSummary } from './summary';

const WIDTH = 360;
const HEIGHT = 240;
const MARGIN = { left: 60, right: 20, top: 30, bottom: 40 };
const COLORS = { keyServer: '#d62728', baseline: '#1f77b4' } as const;

interface Panel {
  readonly title: string;
  readonly unit: string;
  readonly pick: (summary: ScenarioSummary, server: 'keyServer' | 'baseline') => number;
}

function escapeXml(text: string): string {
  return text.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;');
}

/** One panel: a line per server over the connection counts, evenly spaced (1, 50, 200 are categories here). */
function panel(points: readonly ScenarioSummary[], spec: Panel, offsetX: number): string {
  const plotWidth = WIDTH - MARGIN.left - MARGIN.right;
  const plotHeight = HEIGHT - MARGIN.top - MARGIN.bottom;
  const values = points.flatMap((point) => [spec.pick(point, 'keyServer'), spec.pick(point, 'baseline')]).filter(Number.isFinite);
  const top = Math.max(...values, 0) * 1.1 || 1;
  const x = (index: number): number => offsetX + MARGIN.left + (points.length === 1 ? plotWidth / 2 : (index * plotWidth) / (points.length - 1));
  const y = (value: number): number => MARGIN.top + plotHeight - (value / top) * plotHeight;
  const parts = [
    `<text x="${offsetX + WIDTH / 2}" y="18" text-anchor="middle" font-size="13">${escapeXml(spec.title)}</text>`,
    `<line x1="${offsetX + MARGIN.left}" y1="${MARGIN.top + plotHeight}" x2="${offsetX + WIDTH - MARGIN.right}" y2="${MARGIN.top + plotHeight}" stroke="#333"/>`,
    `<line x1="${offsetX + MARGIN.left}" y1="${MARGIN.top}" x2="${offsetX + MARGIN.left}" y2="${MARGIN.top + plotHeight}" stroke="#333"/>`,
    `<text x="${offsetX + MARGIN.left - 6}" y="${MARGIN.top + 4}" text-anchor="end" font-size="10">${top.toFixed(top >= 100 ? 0 : 1)}</text>`,
    `<text x="${offsetX + MARGIN.left - 6}" y="${MARGIN.top + plotHeight}" text-anchor="end" font-size="10">0</text>`,
    `<text x="${offsetX + 14}" y="${MARGIN.top + plotHeight / 2}" font-size="10" transform="rotate(-90 ${offsetX + 14} ${MARGIN.top + plotHeight / 2})" text-anchor="middle">${escapeXml(spec.unit)}</text>`,
    `<text x="${offsetX + MARGIN.left + plotWidth / 2}" y="${HEIGHT - 6}" text-anchor="middle" font-size="10">connections</text>`,
  ];
  points.forEach((point, index) => {
    parts.push(`<text x="${x(index)}" y="${MARGIN.top + plotHeight + 14}" text-anchor="middle" font-size="10">${point.connections}</text>`);
  });
  for (const server of ['keyServer', 'baseline'] as const) {
    const coordinates = points.map((point, index) => `${x(index).toFixed(1)},${y(spec.pick(point, server)).toFixed(1)}`);
    parts.push(`<polyline fill="none" stroke="${COLORS[server]}" stroke-width="2" points="${coordinates.join(' ')}"/>`);
    coordinates.forEach((coordinate) => {
      const [cx, cy] = coordinate.split(',');
      parts.push(`<circle cx="${cx}" cy="${cy}" r="3" fill="${COLORS[server]}"/>`);
    });
  }
  return parts.join('\n');
}

/** Two panels side by side, requests/s and p99 ms, key server in red and baseline in blue. */
export function renderPlot(points: readonly ScenarioSummary[]): string {
  const legend = [
    `<rect x="${WIDTH * 2 - 170}" y="${HEIGHT + 4}" width="10" height="10" fill="${COLORS.keyServer}"/>`,
    `<text x="${WIDTH * 2 - 155}" y="${HEIGHT + 13}" font-size="11">key server</text>`,
    `<rect x="${WIDTH * 2 - 90}" y="${HEIGHT + 4}" width="10" height="10" fill="${COLORS.baseline}"/>`,
    `<text x="${WIDTH * 2 - 75}" y="${HEIGHT + 13}" font-size="11">baseline</text>`,
  ];
  return [
    `<svg xmlns="http://www.w3.org/2000/svg" width="${WIDTH * 2}" height="${HEIGHT + 20}" font-family="sans-serif">`,
    `<rect width="100%" height="100%" fill="white"/>`,
    panel(points, { title: 'GET /key/32: requests/s (median)', unit: 'requests/s', pick: (summary, server) => summary[server].requestsPerSecond }, 0),
    panel(points, { title: 'GET /key/32: p99 latency (median)', unit: 'ms', pick: (summary, server) => summary[server].p99Ms }, WIDTH),
    ...legend,
    '</svg>',
    '',
  ].join('\n');
}
