// The phase-durations page of `kiln ui`: pick a template (and builder), see each phase's duration
// over its latest builds with the running median and p90, one small chart per phase (uPlot,
// inlined: a small, fast, dependency-free chart library), and a table of which phase got slower.
import { readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { formatElapsed } from '../view/index.js';
import { esc } from '../report/index.js';
import { uiPage } from './pages.js';
import { changeKind, TREND_WINDOW, type PhaseTrend } from './trends.js';

/** How a template and builder are named in the page's address (`?t=`): JSON survives a form's line-break rewriting. */
export const choiceKey = (c: Pick<TemplateChoice, 'templatePath' | 'builderName'>) => JSON.stringify([c.templatePath, c.builderName]);

/** A template and builder with builds in the store. */
export interface TemplateChoice {
  templatePath: string;
  builderName: string;
  builds: number;
  latest: string;
}

let uplot: { js: string; css: string } | undefined;

/** uPlot's script and style, read once from the installed package. */
function uplotAssets(): { js: string; css: string } {
  if (!uplot) {
    const require = createRequire(import.meta.url);
    uplot = {
      js: readFileSync(require.resolve('uplot/dist/uPlot.iife.min.js'), 'utf8'),
      css: readFileSync(require.resolve('uplot/dist/uPlot.min.css'), 'utf8'),
    };
  }
  return uplot;
}

/** JSON inside a <script> element: `<` escaped so that no string can close it. */
const scriptJson = (value: unknown) => JSON.stringify(value).replace(/</g, '\\u003c');

const CHART_SCRIPT = `
(() => {
  const data = JSON.parse(document.getElementById('trend-data').textContent);
  const dark = matchMedia('(prefers-color-scheme: dark)').matches;
  const ink = dark ? '#98a2b3' : '#667085', grid = dark ? '#2a313d' : '#eceef2';
  const ms = (v) => v == null ? '' : v < 1000 ? Math.round(v) + 'ms' : v < 60000 ? (v / 1000).toFixed(v < 10000 ? 1 : 0) + 's' : Math.floor(v / 60000) + 'm' + String(Math.round(v / 1000) % 60).padStart(2, '0') + 's';
  const axis = { stroke: ink, grid: { stroke: grid, width: 1 }, ticks: { stroke: grid, width: 1 } };
  data.trends.forEach((t, i) => {
    const el = document.getElementById('chart-' + i);
    const opts = {
      width: el.clientWidth, height: 150, legend: { show: false }, cursor: { points: { size: 6 } },
      scales: { x: { time: true }, y: { range: (u, min, max) => [0, max * 1.1 || 1] } },
      axes: [ { ...axis, size: 28, font: '11px system-ui' }, { ...axis, size: 52, font: '11px system-ui', values: (u, vals) => vals.map(ms) } ],
      series: [
        {},
        { label: 'build', stroke: 'transparent', points: { show: true, size: 5, fill: dark ? '#667085' : '#b8c0cc', stroke: 'transparent' } },
        { label: 'median', stroke: '#3b6fd8', width: 2, spanGaps: true, points: { show: false } },
        { label: 'p90', stroke: '#d89614', width: 1.5, dash: [5, 3], spanGaps: true, points: { show: false } },
      ],
    };
    new uPlot(opts, [t.at.map((x) => x / 1000), t.value, t.median, t.p90], el);
  });
})();`;

function changeText(t: PhaseTrend): { text: string; cls: string } {
  const kind = changeKind(t.change);
  if (!kind || !t.change) return { text: '', cls: '' };
  const pct = Math.round((t.change.ratio - 1) * 100);
  const signed = `${pct >= 0 ? '+' : ''}${pct} %`;
  return kind === 'same' ? { text: signed, cls: '' } : { text: `${signed} ${kind}`, cls: kind };
}

/** Slower phases first (most first), then the rest by ratio. */
const rank = (t: PhaseTrend) => (changeKind(t.change) === 'slower' ? 10 : 0) + (t.change?.ratio ?? 1);

function summaryTable(trends: readonly PhaseTrend[]): string {
  const last = <T,>(xs: readonly (T | null)[]) => [...xs].reverse().find((x) => x !== null) ?? null;
  const rows = [...trends]
    .sort((a, b) => rank(b) - rank(a))
    .map((t) => {
      const change = changeText(t);
      return (
        `<tr data-phase="${esc(t.phase)}"><td class="mono">${esc(t.phase)}</td><td class="num">${t.value.filter((v) => v !== null).length}</td>` +
        `<td class="num">${esc(formatElapsed(last(t.median) ?? 0))}</td><td class="num">${esc(formatElapsed(last(t.p90) ?? 0))}</td>` +
        `<td class="num">${t.change ? esc(formatElapsed(t.change.previousMedian)) + ' → ' + esc(formatElapsed(t.change.latestMedian)) : '<span class="muted">—</span>'}</td>` +
        `<td class="num ${change.cls === 'slower' ? 'fate-left' : change.cls === 'faster' ? 'fate-kept' : 'muted'}">${esc(change.text)}</td></tr>`
      );
    })
    .join('');
  return (
    `<table><thead><tr><th>phase</th><th class="num">builds</th><th class="num">median</th><th class="num">p90</th><th class="num">median before → latest</th><th class="num">change</th></tr></thead>` +
    `<tbody>${rows}</tbody></table>`
  );
}

export function trendsPage(o: { choices: readonly TemplateChoice[]; chosen?: TemplateChoice; trends: readonly PhaseTrend[]; scanned: number; store: string }): string {
  const key = choiceKey;
  const options = o.choices
    .map((c) => `<option value="${esc(key(c))}"${o.chosen && key(c) === key(o.chosen) ? ' selected' : ''}>${esc(c.templatePath)} · ${esc(c.builderName)} (${c.builds} build${c.builds === 1 ? '' : 's'})</option>`)
    .join('');
  const picker =
    o.choices.length === 0
      ? '<div class="empty">No builds yet.</div>'
      : `<form class="filters" method="get" action="/trends"><select name="t" aria-label="template">${options}</select><button type="submit">Show</button></form>`;
  let body =
    `<header class="page"><h1>Phase durations</h1><div class="sub">Each phase's duration in the latest builds of a template, with the median and p90 of the last ${TREND_WINDOW} builds up to each one: which phase got slower, and when.</div></header>` +
    picker;
  if (o.chosen && o.trends.length === 0) body += '<section><div class="empty">No phase of these builds has finished yet.</div></section>';
  if (o.chosen && o.trends.length > 0) {
    const charts = o.trends
      .map((t, i) => {
        const change = changeText(t);
        return `<div class="chart" data-phase="${esc(t.phase)}"><h3>${esc(t.phase)}<span class="delta ${change.cls}">${esc(change.text)}</span></h3><div id="chart-${i}"></div></div>`;
      })
      .join('');
    const { js, css } = uplotAssets();
    body +=
      `<section data-section="trend-table"><h2>By phase <small>${o.scanned} latest builds of <code>${esc(o.chosen.templatePath)}</code> · ${esc(o.chosen.builderName)}, slowest change first</small></h2>${summaryTable(o.trends)}</section>` +
      `<section data-section="trend-charts"><h2>Over time <small><span style="color:#3b6fd8">━ median</span> · <span style="color:#d89614">┅ p90</span> · ● one build</small></h2><div class="charts">${charts}</div></section>` +
      `<style>${css}</style><script type="application/json" id="trend-data">${scriptJson({ trends: o.trends })}</script><script>${js}</script><script>${CHART_SCRIPT}</script>`;
  }
  return uiPage({ title: 'Phase durations', tab: 'trends', body, store: o.store });
}
