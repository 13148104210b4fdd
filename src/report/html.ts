// A build's report as HTML: the body (`reportBody`, which `kiln ui` also serves and refreshes
// live) and the self-contained page of `kiln show <id> --html` (`reportPage`): inline style and
// SVG, no script, and a Content-Security-Policy that lets the page load nothing from anywhere.
import { formatElapsed } from '../view/index.js';
import { esc } from './escape.js';
import { ganttSvg } from './gantt.js';
import type { BuildReport, ProvisionerOutput, ResourceRow, Stretch } from './model.js';
import { STYLE } from './style.js';

/** Nothing may be fetched: no script, font, image or stylesheet from anywhere (inline style and data: images only). */
export const REPORT_CSP = "default-src 'none'; style-src 'unsafe-inline'; img-src data:";

const when = (ms: number) => new Date(ms).toISOString().replace('T', ' ').replace(/\.\d+Z$/, ' UTC');

/** The status's class (`running (process gone: kiln resume)` is `gone`). */
export function statusClass(status: string): string {
  return status.startsWith('running (') ? 'gone' : status;
}

function apiCallsText(r: BuildReport): { value: string; note: string } {
  const { calls, retries, uncounted } = r.apiCalls;
  const counted = r.stretches.length - uncounted - (r.running ? 1 : 0);
  if (counted === 0) return { value: '—', note: r.running ? 'counted when the process ends' : 'not recorded (killed first, or an older kiln)' };
  const notes = [retries > 0 ? `${retries} retried attempt${retries === 1 ? '' : 's'}` : '', uncounted > 0 ? `+ ${uncounted} run${uncounted === 1 ? '' : 's'} killed before counting` : ''].filter(Boolean);
  return { value: `${uncounted > 0 ? '≥ ' : ''}${calls}`, note: notes.join(', ') };
}

/** Where the time went: the phase that took longest (kiln show's phase durations). */
function mostTime(r: BuildReport, card: (label: string, value: string, note?: string, attrs?: string) => string): string {
  const longest = [...r.rows].filter((row) => row.durationMs !== undefined).sort((a, b) => b.durationMs! - a.durationMs!)[0];
  if (!longest) return card('Most time in', '—', '', ' data-card="most-time"');
  const name = longest.provisionerIndex !== undefined ? `${longest.phase} #${longest.provisionerIndex}` : longest.phase;
  const share = r.activeMs > 0 ? ` (${Math.round((100 * longest.durationMs!) / r.activeMs)} % of the driven time)` : '';
  return card('Most time in', `<code>${esc(name)}</code>`, `${formatElapsed(longest.durationMs!)}${share}`, ' data-card="most-time"');
}

function summaryCards(r: BuildReport): string {
  const calls = apiCallsText(r);
  const card = (label: string, value: string, note = '', attrs = '') => `<div class="card"${attrs}><dt>${esc(label)}</dt><dd>${value}${note ? `<small>${esc(note)}</small>` : ''}</dd></div>`;
  return (
    `<dl class="cards">` +
    card('Duration', esc(formatElapsed(r.durationMs)), r.stretches.length > 1 ? `${formatElapsed(r.activeMs)} driven, by ${r.stretches.length} runs` : r.running ? 'so far' : '', ' data-card="duration"') +
    mostTime(r, card) +
    card('Image', r.imageId ? `<code>${esc(r.imageId)}</code>` : '—', r.imageId ? '' : r.status === 'succeeded' ? '' : 'no image yet', ' data-card="image"') +
    card(r.hosts.length === 1 ? 'Host' : 'Hosts', esc(r.hosts.join(', ') || '—'), '', ' data-card="hosts"') +
    card('API calls', esc(calls.value), calls.note, ' data-card="api-calls"') +
    card('Started', esc(when(Date.parse(r.createdAt))), `on error: ${r.onError}`, ' data-card="started"') +
    `</dl>`
  );
}

function errorSection(r: BuildReport): string {
  if (!r.error) return '';
  return (
    `<section class="error" data-section="error"><h2>${r.status === 'failed' ? 'The build failed' : 'The build stopped'}${r.error.phase ? ` in <code>${esc(r.error.phase)}</code>` : ''}</h2>` +
    // kiln's hint starts with the cause when it has one; the error is said once.
    `${r.error.hint.includes(r.error.text) ? '' : `<div class="error-text">${esc(r.error.text)}</div>`}<pre class="hint">${esc(r.error.hint.trimEnd())}</pre></section>`
  );
}

const LEGEND =
  `<div class="legend"><span><i class="ok"></i>attempt succeeded</span><span><i class="retried"></i>failed, retried</span><span><i class="failed"></i>failed</span>` +
  `<span><i class="killed"></i>cut short (killed, interrupted)</span><span><i class="running"></i>running</span><span><i class="rollback"></i>cleanup after a failure</span>` +
  `<span><i class="wait"></i>a wait, as it happened</span><span><i class="window"></i>the window kiln predicted from past waits</span>` +
  `<span>✕ killed · ↻ resumed · ‖ interrupted (hover for details)</span></div>`;

function timelineSection(r: BuildReport): string {
  const body = r.bars.length === 0 ? `<div class="empty">No phase has started yet.</div>` : `<div class="gantt-wrap">${ganttSvg(r)}</div>${LEGEND}`;
  return `<section data-section="timeline"><h2>Timeline <small>${r.bars.length} attempt${r.bars.length === 1 ? '' : 's'} of ${r.rows.length} phase${r.rows.length === 1 ? '' : 's'}</small></h2>${body}</section>`;
}

const STRETCH_END: Record<Stretch['end'], string> = {
  succeeded: 'succeeded',
  failed: 'failed',
  interrupted: 'interrupted (stopped at a safe point)',
  killed: 'killed: ended without recording an end',
  running: 'running',
  gone: 'process gone without recording an end',
};

function runsSection(r: BuildReport): string {
  if (r.stretches.length === 0) return '';
  const rows = r.stretches
    .map(
      (s) =>
        `<tr data-stretch="${s.index}"><td>${s.index + 1}</td><td>${s.resumed ? `resumed${s.fromPhase ? ` at <code>${esc(s.fromPhase)}</code>` : ''}` : 'started'}</td>` +
        `<td class="host">${esc(s.host ?? '?')}</td><td class="num">${esc(s.pid ?? '?')}</td><td>${esc(when(s.startAt))}</td><td class="num">${esc(formatElapsed(s.endAt - s.startAt))}</td>` +
        `<td>${esc(STRETCH_END[s.end])}</td><td class="num">${s.apiCalls ? esc(s.apiCalls.calls) : '<span class="muted">—</span>'}</td></tr>`,
    )
    .join('');
  return (
    `<section data-section="runs"><h2>Runs <small>the processes that drove the build</small></h2><table><thead><tr><th>#</th><th>how</th><th>host</th><th class="num">pid</th>` +
    `<th>from</th><th class="num">for</th><th>ended</th><th class="num">API calls</th></tr></thead><tbody>${rows}</tbody></table></section>`
  );
}

function fateClass(row: ResourceRow): string {
  if (row.fateLabel.startsWith('left for')) return 'fate-left';
  if (row.fateLabel.startsWith('kept')) return 'fate-kept';
  if (row.fateLabel.startsWith('gone')) return 'fate-gone';
  return 'fate-deleted';
}

function resourcesSection(r: BuildReport): string {
  const body =
    r.resources.length === 0
      ? `<div class="empty">None created${r.running ? ' yet' : ''}.</div>`
      : `<table><thead><tr><th>kind</th><th>id</th><th>created</th><th>fate</th></tr></thead><tbody>${r.resources
          .map(
            (x) =>
              `<tr data-resource="${esc(x.id)}" data-fate="${esc(x.fate)}"><td>${esc(x.kind)}${x.api ? ' <span class="muted">(sbs)</span>' : ''}</td><td><code>${esc(x.id)}</code></td>` +
              `<td class="muted">+${esc(formatElapsed(Math.max(0, Date.parse(x.createdAt) - r.startAt)))}</td><td class="${fateClass(x)}">${esc(x.fateLabel)}</td></tr>`,
          )
          .join('')}</tbody></table>`;
  return `<section data-section="resources"><h2>Resources <small>what the build created in the cloud, and what became of it</small></h2>${body}${r.artifact ? `<p class="muted">${esc(r.artifact)}</p>` : ''}</section>`;
}

function outputBlock(out: ProvisionerOutput, r: BuildReport): string {
  const total = out.runs.reduce((n, run) => n + run.lines.length, 0);
  const runs = out.runs
    .map((run, i) => {
      const text = run.lines.map((l) => (l.stream === 'stderr' ? `<span class="stderr">${esc(l.line)}</span>` : esc(l.line))).join('\n');
      const host = r.stretches[run.stretch]?.host;
      const title = out.runs.length > 1 || run.attempt > 1 ? `<div class="muted" style="padding:6px 12px">attempt ${run.attempt}${host ? ` on ${esc(host)}` : ''} · ${run.lines.length} lines</div>` : '';
      return `${i > 0 ? '<hr style="border:0;border-top:1px solid var(--line);margin:0">' : ''}${title}<pre>${text}</pre>`;
    })
    .join('');
  // The output of the provisioner a failed build stopped in is opened; the others are one click away.
  const open = r.status === 'failed' && r.error?.phase === 'provision' && out === r.outputs.at(-1);
  return (
    `<details class="output" data-provisioner="${out.index}"${open ? ' open' : ''}><summary>provisioner #${out.index}${out.type ? ` ${esc(out.type)}` : ''}` +
    `<span class="muted">${total} line${total === 1 ? '' : 's'}${out.runs.length > 1 ? `, ${out.runs.length} runs` : ''}</span></summary>${runs}</details>`
  );
}

function outputSection(r: BuildReport): string {
  if (r.outputs.length === 0) return '';
  return `<section data-section="output"><h2>Provisioner output <small>as recorded in the store: secrets are redacted there</small></h2>${r.outputs.map((o) => outputBlock(o, r)).join('')}</section>`;
}

/** The report's content, without the page around it. */
function cacheSection(r: BuildReport): string {
  if (r.cache.length === 0) return '';
  return `<section data-section="cache"><h2>Build cache <small>the checkpoint the build started from, and the ones it made</small></h2><ul>${r.cache.map((line) => `<li>${esc(line)}</li>`).join('')}</ul></section>`;
}

export function reportBody(r: BuildReport): string {
  return (
    `<header class="page"><h1>Build <code>${esc(r.id)}</code></h1><span class="pill ${statusClass(r.status)}" data-status="${esc(r.status)}">${esc(r.status)}</span>` +
    `<div class="sub"><code>${esc(r.templatePath)}</code> · builder <b>${esc(r.builderName)}</b> · template sha256 <code>${esc(r.templateHash.slice(0, 12))}</code></div></header>` +
    summaryCards(r) +
    errorSection(r) +
    timelineSection(r) +
    runsSection(r) +
    resourcesSection(r) +
    cacheSection(r) +
    outputSection(r)
  );
}

/** A whole HTML document around `body` (the report, or a page of `kiln ui`). */
export function htmlDocument(o: { title: string; body: string; csp: string; head?: string; before?: string; after?: string }): string {
  return (
    `<!doctype html><html lang="en"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width, initial-scale=1">` +
    `<meta http-equiv="Content-Security-Policy" content="${esc(o.csp)}"><title>${esc(o.title)}</title><style>${STYLE}</style>${o.head ?? ''}</head>` +
    `<body>${o.before ?? ''}<main>${o.body}</main>${o.after ?? ''}</body></html>\n`
  );
}

/** `kiln show <id> --html`: one file that opens anywhere, offline. */
export function reportPage(r: BuildReport, generatedAt: number = Date.now()): string {
  const footer = `<footer>Generated by kiln on ${esc(when(generatedAt))} from ${r.eventCount} events (up to #${r.lastSeq}). Hover the timeline for details.</footer>`;
  return htmlDocument({ title: `kiln build ${r.id} — ${r.status}`, body: reportBody(r) + footer, csp: REPORT_CSP });
}
