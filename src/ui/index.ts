// `kiln ui` (issue 27): a live, read-only view of every build in the store — the builds list, each
// build's report as its events arrive, phase durations across a template's builds, and what
// `kiln gc` would remove. The views are the HTML report's (src/report).
export { startUiServer, type StoreReader, type UiOptions, type UiServer } from './server.js';
export { bindProblem, isLoopback, checkAccess, MIN_TOKEN_LENGTH, TOKEN_COOKIE } from './auth.js';
export { gcView, gcAskOf } from './gc.js';
export { changeKind, phaseDurations, phaseTrends, quantile, TREND_WINDOW } from './trends.js';
