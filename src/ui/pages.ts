// The pages of `kiln ui` (pure: data in, HTML out): the frame around every page, the builds list,
// a build (the report's body, refreshed live), and what `kiln gc` would remove. Everything is
// inline (style, script, data); the only requests a page makes are to this server.
import { displayStatus, durationMs, formatElapsed } from '../view/index.js';
import { formatDuration } from '../template/duration.js';
import { formatAge } from '../gc/classify.js';
import { renderSummary } from '../gc/render.js';
import type { PlanItem } from '../gc/types.js';
import { esc, htmlDocument, reportBody, statusClass, type BuildReport } from '../report/index.js';
import type { BuildStatus, BuildSummary, GcRunRecord } from '../store/index.js';

/** Pages may run their own inline scripts and talk to this server (live updates), nothing else. */
export const UI_CSP = "default-src 'none'; style-src 'unsafe-inline'; script-src 'unsafe-inline'; connect-src 'self'; img-src data:";

export type Tab = 'builds' | 'trends' | 'gc';

/** A whole page of the UI: the top bar, then `body`. */
export function uiPage(o: { title: string; tab: Tab | null; body: string; script?: string; store: string }): string {
  const link = (tab: Tab, href: string, label: string) => `<a href="${href}"${o.tab === tab ? ' class="here"' : ''}>${label}</a>`;
  const nav =
    `<nav class="top"><div><a class="brand" href="/">kiln</a>${link('builds', '/', 'Builds')}${link('trends', '/trends', 'Phase durations')}${link('gc', '/gc', 'What gc would remove')}` +
    `<span class="live" id="live" title="${esc(o.store)}">read-only · ${esc(o.store)}</span></div></nav>`;
  return htmlDocument({ title: `${o.title} — kiln`, body: o.body, csp: UI_CSP, before: nav, after: o.script ?? '' });
}

/** The script of a live page: `stream` sends `update` events of `{ html }` for the element `#target`. */
function liveScript(stream: string, target: string): string {
  return `<script>
(() => {
  const live = document.getElementById('live');
  const base = live.textContent;
  const source = new EventSource(${JSON.stringify(stream)});
  source.onopen = () => { live.textContent = '● live · ' + base; };
  source.onerror = () => { live.textContent = '○ reconnecting · ' + base; };
  source.addEventListener('update', (message) => {
    const update = JSON.parse(message.data);
    const root = document.getElementById(${JSON.stringify(target)});
    // Keep what the reader opened and where they scrolled.
    const open = [...root.querySelectorAll('details[open]')].map((d) => d.dataset.provisioner);
    const scrolled = [...root.querySelectorAll('pre')].map((p) => p.scrollTop);
    root.innerHTML = update.html;
    for (const p of open) root.querySelector('details[data-provisioner="' + p + '"]')?.setAttribute('open', '');
    root.querySelectorAll('pre').forEach((p, i) => { if (scrolled[i]) p.scrollTop = scrolled[i]; });
    if (update.title) document.title = update.title;
  });
})();
</script>`;
}

// ---- the builds list ----

export interface ListQuery {
  status?: BuildStatus;
  /** Matches the id, template, builder, host or image. */
  q?: string;
  page: number;
}

export const PAGE_SIZE = 50;

export function filterBuilds(builds: readonly BuildSummary[], q: string | undefined): readonly BuildSummary[] {
  const needle = q?.trim().toLowerCase();
  if (!needle) return builds;
  return builds.filter((b) => [b.id, b.templatePath, b.builderName, b.host ?? '', b.artifact?.imageId ?? ''].some((field) => field.toLowerCase().includes(needle)));
}

export function queryString(q: Partial<ListQuery>): string {
  const params = new URLSearchParams();
  if (q.status) params.set('status', q.status);
  if (q.q) params.set('q', q.q);
  if (q.page && q.page > 1) params.set('page', String(q.page));
  const text = params.toString();
  return text ? `?${text}` : '';
}

const shortTime = (iso: string) => iso.replace('T', ' ').replace(/\.\d+Z$/, '');
const basename = (path: string) => path.split('/').filter(Boolean).pop() ?? path;

/** The table of one page of builds, with the pager: what the live list replaces. */
/** `simulatorGone`: the builds `endedWithSimulator` found (a killed `kiln build --sim` ended with it). */
export function buildsTable(matching: readonly BuildSummary[], query: ListQuery, now: number, simulatorGone: ReadonlySet<string> = new Set()): string {
  const pages = Math.max(1, Math.ceil(matching.length / PAGE_SIZE));
  const page = Math.min(Math.max(1, query.page), pages);
  const shown = matching.slice((page - 1) * PAGE_SIZE, page * PAGE_SIZE);
  if (shown.length === 0) return `<div class="empty">${query.q || query.status ? 'No build matches.' : 'No builds yet. Start one with <code>kiln build &lt;template&gt;</code> (or <code>kiln build --sim examples/basic.json</code>).'}</div>`;
  const rows = shown
    .map((b) => {
      const status = displayStatus(b, now, simulatorGone.has(b.id));
      return (
        `<tr data-build="${esc(b.id)}"><td><span class="pill ${statusClass(status)}" data-status="${esc(status)}">${esc(status.startsWith('running (') ? 'process gone' : status)}</span></td>` +
        `<td><a class="mono" href="/builds/${encodeURIComponent(b.id)}">${esc(b.id)}</a></td><td title="${esc(b.templatePath)}">${esc(basename(b.templatePath))}</td>` +
        `<td>${esc(b.builderName)}</td><td>${esc(b.host ?? '—')}</td><td class="muted">${esc(shortTime(b.createdAt))}</td>` +
        `<td class="num">${esc(formatElapsed(b.status === 'running' && status === 'running' ? now - Date.parse(b.createdAt) : durationMs(b)))}</td>` +
        `<td class="muted">${esc(b.status === 'running' ? b.phase ?? '' : '')}</td><td>${b.artifact ? `<code>${esc(b.artifact.imageId)}</code>` : '<span class="muted">—</span>'}</td></tr>`
      );
    })
    .join('');
  const pager =
    `<div class="pager"><span>${(page - 1) * PAGE_SIZE + 1}–${(page - 1) * PAGE_SIZE + shown.length} of ${matching.length.toLocaleString('en')}</span>` +
    (page > 1 ? `<a href="/${queryString({ ...query, page: page - 1 })}" rel="prev">← newer</a>` : '') +
    (page < pages ? `<a href="/${queryString({ ...query, page: page + 1 })}" rel="next">older →</a>` : '') +
    `</div>`;
  return (
    `<table class="builds"><thead><tr><th>status</th><th>id</th><th>template</th><th>builder</th><th>host</th><th>started (UTC)</th><th class="num">duration</th><th>phase</th><th>image</th></tr></thead>` +
    `<tbody>${rows}</tbody></table>${pager}`
  );
}

export function listPage(o: { matching: readonly BuildSummary[]; query: ListQuery; now: number; simulatorGone: ReadonlySet<string>; store: string; statuses: readonly BuildStatus[] }): string {
  const options = ['', ...o.statuses].map((s) => `<option value="${s}"${(o.query.status ?? '') === s ? ' selected' : ''}>${s || 'any status'}</option>`).join('');
  const body =
    `<header class="page"><h1>Builds</h1><div class="sub">Every build in the store, newest first${o.query.q || o.query.status ? ' (filtered)' : ''}.</div></header>` +
    `<form class="filters" method="get" action="/"><input type="search" name="q" value="${esc(o.query.q ?? '')}" placeholder="id, template, builder, host or image" aria-label="filter">` +
    `<select name="status" aria-label="status">${options}</select><button type="submit">Filter</button></form>` +
    `<section id="list">${buildsTable(o.matching, o.query, o.now, o.simulatorGone)}</section>`;
  return uiPage({ title: 'Builds', tab: 'builds', body, store: o.store, script: liveScript(`/live/list${queryString(o.query)}`, 'list') });
}

// ---- one build ----

export function buildPage(report: BuildReport, store: string): string {
  const body =
    `<div id="report" data-last-seq="${report.lastSeq}">${reportBody(report)}</div>` +
    `<footer><a href="/builds/${encodeURIComponent(report.id)}/report.html">Download this report</a> (one self-contained HTML file, as <code>kiln show ${esc(report.id)} --html</code> writes it).</footer>`;
  return uiPage({ title: `Build ${report.id}`, tab: null, body, store, script: liveScript(`/builds/${encodeURIComponent(report.id)}/live?after=${report.lastSeq}`, 'report') });
}

export function buildTitle(report: BuildReport): string {
  return `Build ${report.id} — ${report.status} — kiln`;
}

// ---- what gc would remove ----

export interface GcView {
  zones: readonly string[];
  /** Unknown when the options could not be read. */
  olderThanMs?: number;
  now: number;
  items?: readonly PlanItem[];
  /** Why there is no plan (no credentials, the API failed). */
  problem?: string;
  runs: readonly GcRunRecord[];
}

function gcTable(items: readonly PlanItem[], now: number, zones: readonly string[]): string {
  if (items.length === 0) return '';
  const rows = items
    .map(
      (i) =>
        `<tr data-resource="${esc(i.id)}" data-action="${esc(i.action)}"><td>${esc(i.type)}${i.api ? ' <span class="muted">(sbs)</span>' : ''}</td>${zones.length > 1 ? `<td>${esc(i.zone)}</td>` : ''}` +
        `<td><code>${esc(i.id)}</code></td><td>${esc(i.name || '—')}</td><td>${i.buildId ? `<a class="mono" href="/builds/${encodeURIComponent(i.buildId)}">${esc(i.buildId)}</a>` : '—'}</td>` +
        `<td class="num">${esc(i.createdAt === undefined ? '?' : formatAge(Math.max(0, now - i.createdAt)))}</td><td>${esc(i.state)}</td>` +
        `<td class="${i.action === 'keep' ? 'fate-kept' : 'fate-left'}">${esc(i.action === 'with-server' ? 'with server' : i.action)}</td><td class="muted">${esc(i.reason)}</td></tr>`,
    )
    .join('');
  return (
    `<table><thead><tr><th>type</th>${zones.length > 1 ? '<th>zone</th>' : ''}<th>id</th><th>name</th><th>build</th><th class="num">age</th><th>state</th><th>action</th><th>why</th></tr></thead>` +
    `<tbody>${rows}</tbody></table>`
  );
}

/** What gc leaves alone (artifacts, live builds' resources), one click away. */
function keptDetails(kept: readonly PlanItem[], now: number, zones: readonly string[]): string {
  if (kept.length === 0) return '';
  return `<details class="output" data-kept><summary>${kept.length} kept<span class="muted">artifacts, resources of live or recent builds, and why</span></summary><div style="padding:0 12px 8px">${gcTable(kept, now, zones)}</div></details>`;
}

function gcRunsTable(runs: readonly GcRunRecord[]): string {
  if (runs.length === 0) return '<div class="empty">No <code>kiln gc</code> run is recorded in this store.</div>';
  const rows = [...runs]
    .reverse()
    .slice(0, 10)
    .map(
      (r) =>
        `<tr><td class="muted">${esc(shortTime(r.startedAt))}</td><td>${r.dryRun ? 'dry run' : '--force'}</td><td>${esc(r.host)}</td><td>${esc(r.zones.join(', '))}</td>` +
        `<td class="num">${r.found.length}</td><td class="num">${r.removed.length}</td><td>${r.finishedAt === null ? '<span class="fate-left">never finished</span>' : `exit ${esc(r.exitCode)}`}</td></tr>`,
    )
    .join('');
  return `<table><thead><tr><th>started (UTC)</th><th>kind</th><th>host</th><th>zones</th><th class="num">found</th><th class="num">removed</th><th>end</th></tr></thead><tbody>${rows}</tbody></table>`;
}

export function gcPage(view: GcView, store: string): string {
  const plan =
    view.items !== undefined
      ? `<p data-summary>${esc(renderSummary({ items: view.items, zones: view.zones }))}</p>${gcTable(view.items.filter((i) => i.action !== 'keep'), view.now, view.zones)}` +
        keptDetails(view.items.filter((i) => i.action === 'keep'), view.now, view.zones)
      : `<div class="empty" data-problem>${esc(view.problem ?? 'No plan.')}</div>`;
  const body =
    `<header class="page"><h1>What <code>kiln gc</code> would remove</h1><div class="sub">A dry run${view.zones.length > 0 ? ` over ${esc(view.zones.join(', '))}` : ''}` +
    `${view.olderThanMs !== undefined ? `, resources older than ${esc(formatDuration(view.olderThanMs))}` : ''}: the cloud's kiln-tagged resources judged against this store, ` +
    `as <code>kiln gc</code> judges them (<code>?zone=</code>, <code>?all-zones=1</code>, <code>?older-than=</code> as its flags). Nothing is removed and nothing is recorded; ` +
    `<code>kiln gc --force</code> removes them.</div></header>` +
    `<section data-section="gc-plan"><h2>The plan <small>as of ${esc(new Date(view.now).toISOString().slice(11, 19))} UTC · <a href="/gc">look again</a></small></h2>${plan}</section>` +
    `<section data-section="gc-runs"><h2>Recorded gc runs <small>the latest ten</small></h2>${gcRunsTable(view.runs)}</section>`;
  return uiPage({ title: 'What gc would remove', tab: 'gc', body, store });
}

export function messagePage(title: string, message: string, store: string): string {
  return uiPage({ title, tab: null, body: `<header class="page"><h1>${esc(title)}</h1></header><section><p>${esc(message)}</p><p><a href="/">All builds</a></p></section>`, store });
}
