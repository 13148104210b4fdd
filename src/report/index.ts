// A build as HTML (issue 27): the model folded from the store's records and events, the SVG
// timeline, and the self-contained page of `kiln show <id> --html`. Pure functions: the caller
// reads the build (src/view's readBuild); `kiln ui` (src/ui) serves the same views.
export { buildReport, type BuildReport, type AttemptBar, type Stretch, type WaitMark, type Marker } from './model.js';
export { ganttSvg, timeAxis } from './gantt.js';
export { reportBody, reportPage, htmlDocument, statusClass, REPORT_CSP } from './html.js';
export { esc } from './escape.js';
export { STYLE } from './style.js';
