// The timeline of a build as an SVG Gantt chart: one row per phase (per provisioner), one bar per
// attempt, each wait's actual time under the window kiln predicted, the processes' stretches as
// bands with their host, and the kills, resumes and interruptions as marks. Plain SVG: a few
// rects and lines, no chart library (the report must open anywhere, offline). Bars are drawn at
// their exact length (`data-px-per-ms`); a long pause between two stretches (a build killed and
// resumed hours later) is drawn as a fixed break so that the stretches stay readable.
import { formatElapsed } from '../view/index.js';
import { esc } from './escape.js';
import type { AttemptBar, BuildReport, Marker, Stretch, TimelineRow, WaitMark } from './model.js';

const WIDTH = 1120;
const LABEL_W = 200;
const RIGHT_W = 118;
const HEADER_H = 40;
const ROW_H = 26;
const AXIS_H = 26;
const BREAK_W = 34;
const PLOT_X = LABEL_W;
const PLOT_W = WIDTH - LABEL_W - RIGHT_W;

interface Segment {
  from: number;
  to: number;
  /** x where the segment starts. */
  x: number;
}

/** Maps times (epoch ms) to x: linear within a segment, a fixed break between two. */
export interface TimeAxis {
  x(t: number): number;
  pxPerMs: number;
  segments: Segment[];
}

/** Pauses longer than this (and than a tenth of the time the build was driven) are drawn as breaks. */
const MIN_BREAK_MS = 20_000;

export function timeAxis(report: Pick<BuildReport, 'stretches' | 'startAt' | 'endAt'>, extraEnd: number = report.endAt): TimeAxis {
  const spans = report.stretches.length > 0 ? report.stretches.map((s) => [s.startAt, s.endAt] as [number, number]) : [[report.startAt, report.endAt] as [number, number]];
  const active = spans.reduce((sum, [a, b]) => sum + Math.max(0, b - a), 0);
  const merged: [number, number][] = [];
  for (const [a, b] of spans) {
    const last = merged.at(-1);
    if (last && a - last[1] <= Math.max(MIN_BREAK_MS, active / 10)) last[1] = Math.max(last[1], b);
    else merged.push([a, b]);
  }
  merged.at(-1)![1] = Math.max(merged.at(-1)![1], extraEnd);
  const total = merged.reduce((sum, [a, b]) => sum + (b - a), 0) || 1;
  const pxPerMs = (PLOT_W - BREAK_W * (merged.length - 1)) / total;
  let x = PLOT_X;
  const segments = merged.map(([from, to]) => {
    const s = { from, to, x };
    x += (to - from) * pxPerMs + BREAK_W;
    return s;
  });
  return {
    pxPerMs,
    segments,
    x(t) {
      for (let i = 0; i < segments.length; i++) {
        const s = segments[i]!;
        if (t <= s.to || i === segments.length - 1) return s.x + Math.max(0, t - s.from) * pxPerMs;
        const next = segments[i + 1]!;
        // In a break: spread over its width.
        if (t < next.from) return s.x + (s.to - s.from) * pxPerMs + ((t - s.to) / (next.from - s.to)) * BREAK_W;
      }
      return PLOT_X;
    },
  };
}

const STEPS = [100, 250, 500, 1_000, 2_000, 5_000, 10_000, 15_000, 30_000, 60_000, 120_000, 300_000, 600_000, 900_000, 1_800_000, 3_600_000, 7_200_000];

function ticks(axis: TimeAxis, start: number): { x: number; label: string }[] {
  const total = axis.segments.reduce((sum, s) => sum + (s.to - s.from), 0);
  const step = STEPS.find((s) => total / s <= 9) ?? STEPS.at(-1)!;
  const out: { x: number; label: string }[] = [];
  for (const s of axis.segments) {
    for (let t = Math.ceil((s.from - start) / step) * step; start + t <= s.to; t += step) {
      const x = axis.x(start + t);
      if (out.length === 0 || x - out.at(-1)!.x > 40) out.push({ x, label: t === 0 ? '0' : formatElapsed(t) });
    }
  }
  return out;
}

const f = (n: number) => (Math.round(n * 100) / 100).toString();

function rowLabel(row: TimelineRow): string {
  const name = row.provisionerIndex !== undefined ? `${row.phase} #${row.provisionerIndex}${row.provisionerType ? ` ${row.provisionerType}` : ''}` : row.phase;
  return row.rollback ? `${name} (after failure)` : name;
}

const OUTCOME_TEXT: Record<AttemptBar['outcome'], string> = {
  succeeded: 'succeeded',
  retried: 'failed, retried',
  failed: 'failed',
  interrupted: 'interrupted',
  killed: 'cut short: its process was killed',
  abandoned: 'abandoned',
  running: 'running',
};

function barSvg(bar: AttemptBar, axis: TimeAxis, start: number, stretches: readonly Stretch[]): string {
  const x = axis.x(bar.startAt);
  const w = axis.x(bar.endAt) - x;
  const y = HEADER_H + bar.row * ROW_H + 5;
  const host = stretches[bar.stretch]?.host;
  const title =
    `${bar.phase}${bar.provisionerIndex !== undefined ? ` #${bar.provisionerIndex}` : ''}, attempt ${bar.attempt}: ${OUTCOME_TEXT[bar.outcome]}` +
    `\n${formatElapsed(bar.endAt - bar.startAt)}, from +${formatElapsed(bar.startAt - start)} (${new Date(bar.startAt).toISOString().slice(11, 23)} UTC)` +
    (host ? `\non ${host}` : '') +
    (bar.error ? `\n${bar.error}` : '');
  return (
    `<rect class="bar ${bar.outcome}" x="${f(x)}" y="${y}" width="${f(Math.max(0, w))}" height="${ROW_H - 12}" rx="2"` +
    ` data-phase="${esc(bar.phase)}"${bar.provisionerIndex !== undefined ? ` data-provisioner="${bar.provisionerIndex}"` : ''} data-attempt="${bar.attempt}"` +
    ` data-stretch="${bar.stretch}" data-outcome="${bar.outcome}" data-start-ms="${bar.startAt}" data-end-ms="${bar.endAt}"><title>${esc(title)}</title></rect>`
  );
}

function waitSvg(w: WaitMark, axis: TimeAxis): string {
  const y = HEADER_H + w.row * ROW_H;
  const took = w.endAt - w.startAt;
  let window = '';
  let slow = false;
  let title = `${w.finished ? 'Waited' : 'Was waiting'} ${formatElapsed(took)} for ${w.what}`;
  if (w.expectedMs !== undefined) {
    const spread = w.spreadMs ?? 0;
    const lo = w.startAt + Math.max(0, w.expectedMs - spread);
    const hi = w.startAt + w.expectedMs + spread;
    slow = w.finished && took > w.expectedMs + spread;
    title += `\nexpected ~${formatElapsed(w.expectedMs)} (${formatElapsed(Math.max(0, w.expectedMs - spread))}–${formatElapsed(w.expectedMs + spread)})${w.samples ? `, from ${w.samples} past waits` : ''}`;
    window =
      `<rect class="window" x="${f(axis.x(lo))}" y="${y + 2}" width="${f(Math.max(1, axis.x(hi) - axis.x(lo)))}" height="${ROW_H - 4}"><title>${esc(title)}</title></rect>` +
      `<line class="expected" x1="${f(axis.x(w.startAt + w.expectedMs))}" x2="${f(axis.x(w.startAt + w.expectedMs))}" y1="${y + 2}" y2="${y + ROW_H - 2}"/>`;
  } else {
    title += '\nno prediction yet (no past waits of this kind)';
  }
  if (w.looks !== undefined) title += `\n${w.looks === 0 ? 'done in the action’s answer' : `${w.looks} check${w.looks === 1 ? '' : 's'} of its state`}`;
  if (w.apiDurationMs !== undefined) title += `, the change took ${formatElapsed(w.apiDurationMs)} by the API’s clock`;
  const x1 = axis.x(w.startAt);
  return (
    window +
    `<rect class="wait${slow ? ' slow' : ''}" x="${f(x1)}" y="${y + ROW_H - 7}" width="${f(Math.max(1, axis.x(w.endAt) - x1))}" height="4" data-wait-ms="${took}"` +
    `${w.expectedMs !== undefined ? ` data-expected-ms="${w.expectedMs}" data-spread-ms="${w.spreadMs ?? 0}"` : ''}><title>${esc(title)}</title></rect>`
  );
}

const MARK_SYMBOL: Record<Marker['kind'], string> = { resumed: '↻', killed: '✕', interrupted: '‖', failed: '!', cleaned: '✓', missing: '?' };

function markerSvg(m: Marker, axis: TimeAxis, height: number): string {
  const x = f(axis.x(m.at));
  return (
    `<g class="marker ${m.kind}" data-kind="${m.kind}" data-at-ms="${m.at}"><title>${esc(m.label)}</title>` +
    `<line x1="${x}" x2="${x}" y1="${HEADER_H - 14}" y2="${height - AXIS_H}"/>` +
    `<circle cx="${x}" cy="${HEADER_H - 14}" r="7"/><text x="${x}" y="${HEADER_H - 10.5}" text-anchor="middle">${MARK_SYMBOL[m.kind]}</text></g>`
  );
}

const STRETCH_END: Record<Stretch['end'], string> = {
  succeeded: 'succeeded',
  failed: 'failed',
  interrupted: 'interrupted',
  killed: 'killed',
  running: 'running',
  gone: 'process gone',
};

function stretchSvg(s: Stretch, axis: TimeAxis, height: number): string {
  const x = axis.x(s.startAt);
  const w = Math.max(1, axis.x(s.endAt) - x);
  const label = `${s.resumed ? 'resumed' : 'run'} ${s.index + 1} · ${s.host ?? 'unknown host'} · ${STRETCH_END[s.end]}`;
  return (
    `<g class="stretch s${s.index % 2}" data-stretch="${s.index}" data-host="${esc(s.host ?? '')}" data-end="${s.end}">` +
    `<rect x="${f(x)}" y="2" width="${f(w)}" height="${height - AXIS_H - 2}"/>` +
    `<text x="${f(x + 6)}" y="15" class="stretch-label">${esc(label)}</text><title>${esc(`${label}${s.pid !== null ? `, pid ${s.pid}` : ''}`)}</title></g>`
  );
}

function breakSvg(axis: TimeAxis, height: number): string {
  return axis.segments
    .slice(1)
    .map((s, i) => {
      const prev = axis.segments[i]!;
      const x = prev.x + (prev.to - prev.from) * axis.pxPerMs;
      return (
        `<g class="break"><rect x="${f(x + 4)}" y="${HEADER_H}" width="${BREAK_W - 8}" height="${height - AXIS_H - HEADER_H}"/>` +
        `<text x="${f(x + BREAK_W / 2)}" y="${height - AXIS_H + 17}" text-anchor="middle">+${esc(formatElapsed(s.from - prev.to))}</text>` +
        `<title>${esc(`No process drove the build for ${formatElapsed(s.from - prev.to)}`)}</title></g>`
      );
    })
    .join('');
}

function rowSvg(row: TimelineRow, index: number): string {
  const y = HEADER_H + index * ROW_H;
  const slow = row.typicalMs !== undefined && row.durationMs !== undefined && row.durationMs > row.typicalMs + (row.typicalSpreadMs ?? 0);
  const took = row.durationMs !== undefined ? formatElapsed(row.durationMs) : '';
  const usual = row.typicalMs !== undefined ? ` ~${formatElapsed(row.typicalMs)}` : '';
  return (
    `<g class="row${index % 2 ? ' odd' : ''}${row.rollback ? ' rollback' : ''}"><rect class="row-bg" x="0" y="${y}" width="${WIDTH}" height="${ROW_H}"/>` +
    `<text class="row-label" x="8" y="${y + ROW_H / 2 + 4}">${esc(rowLabel(row))}</text>` +
    `<text class="row-took${slow ? ' slow' : ''}" x="${WIDTH - RIGHT_W + 10}" y="${y + ROW_H / 2 + 4}">${esc(took)}<tspan class="usual">${esc(usual)}</tspan>` +
    `${slow ? '<title>slower than usual</title>' : ''}</text></g>`
  );
}

/** The timeline of `report` as an inline SVG element. */
export function ganttSvg(report: BuildReport): string {
  const windowEnds = report.waits.map((w) => (w.expectedMs !== undefined ? w.startAt + w.expectedMs + (w.spreadMs ?? 0) : w.endAt));
  const axis = timeAxis(report, Math.max(report.endAt, ...windowEnds));
  const height = HEADER_H + Math.max(1, report.rows.length) * ROW_H + AXIS_H;
  const start = report.startAt;
  const grid = ticks(axis, start);
  return (
    `<svg class="gantt" xmlns="http://www.w3.org/2000/svg" viewBox="0 0 ${WIDTH} ${height}" preserveAspectRatio="xMinYMin meet"` +
    ` data-px-per-ms="${axis.pxPerMs}" data-start-ms="${start}" role="img" aria-label="Timeline of build ${esc(report.id)}">` +
    `<g class="rows">${report.rows.map(rowSvg).join('')}</g>` +
    `<g class="stretches">${report.stretches.map((s) => stretchSvg(s, axis, height)).join('')}</g>` +
    `<g class="grid">${grid.map((t) => `<line x1="${f(t.x)}" x2="${f(t.x)}" y1="${HEADER_H}" y2="${height - AXIS_H}"/>`).join('')}</g>` +
    breakSvg(axis, height) +
    `<g class="waits">${report.waits.map((w) => waitSvg(w, axis)).join('')}</g>` +
    `<g class="bars">${report.bars.map((b) => barSvg(b, axis, start, report.stretches)).join('')}</g>` +
    `<g class="markers">${report.markers.map((m) => markerSvg(m, axis, height)).join('')}</g>` +
    `<g class="axis">${grid.map((t) => `<text x="${f(t.x)}" y="${height - AXIS_H + 17}" text-anchor="middle">${esc(t.label)}</text>`).join('')}</g>` +
    `</svg>`
  );
}
