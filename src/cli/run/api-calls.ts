// How many API calls a process made for a build: counted on each request the client reports, and
// recorded as one `api.calls` event when the process stops driving the build (the report's and
// the UI's summary add them up; a process killed before that records none).
import type { RequestReport } from '../../scaleway/index.js';
import type { BuildStore } from '../../store/index.js';
import { redactText } from '../../template/index.js';
import { describeClientRetry } from '../../view/index.js';
import { settledWithin, STORE_GOODBYE_MS } from '../../engine/log.js';

export interface ApiCallCounter {
  /** The client's onRequest hook: counts, then hands the report on (--debug). */
  onRequest(report: RequestReport): void;
  /** Appends the count (never throws). */
  record(store: BuildStore, buildId: string): Promise<void>;
}

export function countApiCalls(next?: (report: RequestReport) => void): ApiCallCounter {
  let calls = 0;
  let retries = 0;
  return {
    onRequest(report) {
      if (report.attempt === 1) calls++;
      else retries++;
      next?.(report);
    },
    // The count is for people: a store that fails (or hangs) here leaves the build's record complete.
    record: (store, buildId) => settledWithin(() => store.append(buildId, { type: 'api.calls', data: { calls, retries } }), STORE_GOODBYE_MS),
  };
}

/**
 * The onRequest hook that says each retry of the client's own as it happens (`note`: the build's
 * output), then hands the report on: a call that cannot get through (the API gone during a
 * cleanup) is never a silent wait. `secrets` are hidden in what it says.
 */
export function announceRetries(note: (text: string) => void, secrets: readonly string[], next?: (report: RequestReport) => void): (report: RequestReport) => void {
  return (report) => {
    next?.(report);
    if (report.retryInMs !== undefined) note(redactText(describeClientRetry({ ...report, retryInMs: report.retryInMs }), secrets));
  };
}
