// The report's and the UI's style sheet, inlined in every page (no external CSS or font: the
// report opens offline, from a CI artifact or an e-mail). System fonts; light and dark schemes.
export const STYLE = `
:root {
  --bg: #f6f7f9; --card: #fff; --ink: #1d2330; --muted: #667085; --line: #e3e6eb; --soft: #f0f2f5;
  --ok: #1f9d6b; --warn: #d89614; --bad: #d1434b; --info: #3b6fd8; --idle: #98a2b3; --violet: #7c5cc4;
  --band0: rgba(59,111,216,.045); --band1: rgba(124,92,196,.06); --window: rgba(59,111,216,.16);
  --mono: ui-monospace, SFMono-Regular, "SF Mono", Menlo, Consolas, "Liberation Mono", monospace;
  color-scheme: light dark;
}
@media (prefers-color-scheme: dark) {
  :root { --bg: #0f131a; --card: #171c25; --ink: #e6e9ef; --muted: #98a2b3; --line: #2a313d; --soft: #1d232e;
    --band0: rgba(99,141,236,.07); --band1: rgba(160,130,230,.08); --window: rgba(99,141,236,.22); }
}
* { box-sizing: border-box; }
body { margin: 0; background: var(--bg); color: var(--ink); font: 14px/1.45 system-ui, -apple-system, "Segoe UI", Roboto, "Helvetica Neue", Arial, sans-serif; }
a { color: var(--info); text-decoration: none; } a:hover { text-decoration: underline; }
code, .mono { font-family: var(--mono); font-size: 12.5px; }
main { max-width: 1200px; margin: 0 auto; padding: 20px 24px 40px; }
header.page { display: flex; flex-wrap: wrap; align-items: center; gap: 10px 16px; margin: 4px 0 14px; }
header.page h1 { font-size: 21px; margin: 0; font-weight: 650; letter-spacing: -.01em; }
header.page .sub { flex-basis: 100%; color: var(--muted); }
nav.top { background: var(--card); border-bottom: 1px solid var(--line); }
nav.top div { max-width: 1200px; margin: 0 auto; padding: 10px 24px; display: flex; gap: 20px; align-items: center; }
nav.top .brand { font-weight: 700; color: var(--ink); margin-right: 8px; letter-spacing: .02em; }
nav.top a.here { color: var(--ink); font-weight: 600; }
nav.top .live { margin-left: auto; color: var(--muted); font-size: 12.5px; }
.pill { display: inline-block; padding: 2px 10px; border-radius: 999px; font-size: 12.5px; font-weight: 600; background: var(--soft); color: var(--muted); white-space: nowrap; }
.pill.succeeded { background: rgba(31,157,107,.13); color: var(--ok); }
.pill.failed { background: rgba(209,67,75,.13); color: var(--bad); }
.pill.interrupted, .pill.gone { background: rgba(216,150,20,.15); color: var(--warn); }
.pill.running { background: rgba(59,111,216,.13); color: var(--info); }
.pill.cleaned { background: var(--soft); color: var(--muted); }
.cards { display: grid; grid-template-columns: repeat(auto-fit, minmax(160px, 1fr)); gap: 10px; margin-bottom: 14px; }
.card, section { background: var(--card); border: 1px solid var(--line); border-radius: 10px; }
.cards .card { padding: 10px 14px; min-width: 0; }
.cards dt { color: var(--muted); font-size: 12px; text-transform: uppercase; letter-spacing: .05em; }
.cards dd { margin: 2px 0 0; font-size: 16px; font-weight: 600; overflow-wrap: anywhere; }
.cards dd small { display: block; font-size: 12px; font-weight: 400; color: var(--muted); }
section { padding: 14px 16px; margin-bottom: 14px; }
section h2 { font-size: 15px; margin: 0 0 10px; font-weight: 650; }
section h2 small { color: var(--muted); font-weight: 400; margin-left: 6px; }
section.error { border-color: rgba(209,67,75,.45); background: linear-gradient(0deg, rgba(209,67,75,.05), rgba(209,67,75,.05)), var(--card); }
section.error h2 { color: var(--bad); }
section.error pre { margin: 8px 0 0; white-space: pre-wrap; font: 12.5px/1.5 var(--mono); color: var(--ink); }
table { width: 100%; border-collapse: collapse; }
th { text-align: left; font-size: 12px; color: var(--muted); font-weight: 600; text-transform: uppercase; letter-spacing: .04em; padding: 6px 8px; border-bottom: 1px solid var(--line); }
td { padding: 7px 8px; border-bottom: 1px solid var(--line); vertical-align: top; }
tr:last-child td { border-bottom: 0; }
td.num, th.num { text-align: right; font-variant-numeric: tabular-nums; }
.muted { color: var(--muted); }
.fate-deleted { color: var(--muted); }
.fate-left { color: var(--warn); font-weight: 600; }
.fate-kept { color: var(--ok); font-weight: 600; }
.fate-gone { color: var(--bad); }
.gantt-wrap { overflow-x: auto; }
svg.gantt { width: 100%; min-width: 820px; height: auto; display: block; font: 12px system-ui, sans-serif; }
svg.gantt .row-bg { fill: transparent; } svg.gantt .row.odd .row-bg { fill: var(--soft); opacity: .55; }
svg.gantt .row-label { fill: var(--ink); font-family: var(--mono); font-size: 11.5px; }
svg.gantt .row.rollback .row-label { fill: var(--violet); }
svg.gantt .row-took { fill: var(--ink); font-variant-numeric: tabular-nums; font-size: 11.5px; }
svg.gantt .row-took .usual { fill: var(--muted); }
svg.gantt .row-took.slow { fill: var(--bad); font-weight: 600; }
svg.gantt .stretch rect { stroke: none; } svg.gantt .stretch.s0 rect { fill: var(--band0); } svg.gantt .stretch.s1 rect { fill: var(--band1); }
svg.gantt .stretch-label { fill: var(--muted); font-size: 11.5px; font-weight: 600; }
svg.gantt .grid line { stroke: var(--line); stroke-dasharray: 2 3; }
svg.gantt .axis text, svg.gantt .break text { fill: var(--muted); font-size: 11px; font-variant-numeric: tabular-nums; }
svg.gantt .break rect { fill: var(--soft); stroke: var(--line); stroke-dasharray: 3 3; }
svg.gantt .bar { fill: var(--ok); }
svg.gantt .bar.retried { fill: var(--warn); }
svg.gantt .bar.failed { fill: var(--bad); }
svg.gantt .bar.killed, svg.gantt .bar.interrupted, svg.gantt .bar.abandoned { fill: var(--idle); }
svg.gantt .bar.running { fill: var(--info); animation: pulse 1.4s ease-in-out infinite; }
svg.gantt .row.rollback .bar.succeeded { fill: var(--violet); }
@keyframes pulse { 50% { opacity: .55; } }
svg.gantt .window { fill: var(--window); stroke: var(--info); stroke-opacity: .5; stroke-dasharray: 3 2; }
svg.gantt .expected { stroke: var(--info); stroke-width: 1.5; }
svg.gantt .wait { fill: #344054; } svg.gantt .wait.slow { fill: var(--bad); }
@media (prefers-color-scheme: dark) { svg.gantt .wait { fill: #d0d5dd; } }
svg.gantt .marker line { stroke-width: 1.5; stroke-dasharray: 4 3; }
svg.gantt .marker circle { stroke: var(--card); stroke-width: 1.5; }
svg.gantt .marker text { fill: #fff; font-size: 9.5px; font-weight: 700; }
svg.gantt .marker.killed line, svg.gantt .marker.failed line { stroke: var(--bad); } svg.gantt .marker.killed circle, svg.gantt .marker.failed circle { fill: var(--bad); }
svg.gantt .marker.resumed line { stroke: var(--info); } svg.gantt .marker.resumed circle { fill: var(--info); }
svg.gantt .marker.interrupted line { stroke: var(--warn); } svg.gantt .marker.interrupted circle { fill: var(--warn); }
svg.gantt .marker.cleaned line, svg.gantt .marker.missing line { stroke: var(--muted); } svg.gantt .marker.cleaned circle, svg.gantt .marker.missing circle { fill: var(--muted); }
.legend { display: flex; flex-wrap: wrap; gap: 6px 16px; margin-top: 8px; color: var(--muted); font-size: 12.5px; }
.legend i { display: inline-block; width: 14px; height: 10px; border-radius: 2px; vertical-align: -1px; margin-right: 5px; }
.legend i.ok { background: var(--ok); } .legend i.retried { background: var(--warn); } .legend i.failed { background: var(--bad); }
.legend i.killed { background: var(--idle); } .legend i.running { background: var(--info); } .legend i.rollback { background: var(--violet); }
.legend i.window { background: var(--window); outline: 1px dashed var(--info); } .legend i.wait { background: #344054; height: 4px; vertical-align: 2px; }
details.output { border: 1px solid var(--line); border-radius: 8px; margin: 8px 0; background: var(--card); }
details.output > summary { cursor: pointer; padding: 8px 12px; font-weight: 600; list-style-position: inside; }
details.output > summary .muted { font-weight: 400; margin-left: 6px; }
details.output pre { margin: 0; padding: 10px 12px; max-height: 460px; overflow: auto; background: var(--soft); border-top: 1px solid var(--line);
  border-radius: 0 0 8px 8px; font: 12px/1.5 var(--mono); white-space: pre-wrap; overflow-wrap: anywhere; }
details.output pre .stderr { color: var(--bad); }
footer { color: var(--muted); font-size: 12px; margin-top: 18px; }
form.filters { display: flex; flex-wrap: wrap; gap: 8px; margin-bottom: 12px; align-items: center; }
form.filters input, form.filters select, form.filters button { font: inherit; padding: 6px 10px; border: 1px solid var(--line); border-radius: 7px; background: var(--card); color: var(--ink); }
form.filters input[type=search] { min-width: 340px; }
form.filters button { background: var(--info); color: #fff; border-color: var(--info); cursor: pointer; }
.pager { display: flex; gap: 12px; align-items: center; justify-content: flex-end; margin-top: 10px; color: var(--muted); }
.charts { display: grid; grid-template-columns: repeat(auto-fill, minmax(340px, 1fr)); gap: 12px; }
.chart { border: 1px solid var(--line); border-radius: 8px; padding: 8px 10px 4px; }
.chart h3 { margin: 0 0 2px; font: 600 12.5px var(--mono); }
.chart .delta { float: right; font: 12px system-ui, sans-serif; color: var(--muted); }
.chart .delta.slower { color: var(--bad); font-weight: 600; } .chart .delta.faster { color: var(--ok); }
.empty { color: var(--muted); padding: 18px 4px; }
`;
