// How a build reads to a person, in one place for the CLI (`kiln build`'s progress, `kiln ls`,
// `kiln show`), the HTML report and `kiln ui`: a sentence per event, measured times, the timeline of
// phases and attempts, the resources' fates, a build's status and duration, and what to do after a
// build that did not succeed. Folded from the store's records and events; it drives nothing.
export { buildCacheLines, describeArtifact, describeClientRetry, describeError, describeEvent, type ClientRetry, describeExpected, describeCacheCheck, explainCacheCheck, formatElapsed, outputLines, timeLeft } from './describe.js';
export { nextSteps, type EndedBuild } from './next-steps.js';
export { readBuild, type BuildReading } from './read.js';
export { resourceFates, type ResourceFate } from './resources.js';
export { displayStatus, durationMs, endedWithSimulator, ranOnEmbeddedSim, SIMULATOR_GONE } from './status.js';
export { timeline, type TimelineEntry } from './timeline.js';
