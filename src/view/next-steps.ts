// What to do after a build that did not succeed: the lines `kiln build` and `kiln resume` print
// on stderr, and the HTML report and `kiln ui` show under the error (one text for all three).
import type { ErrorInfo } from '../store/index.js';
import { describeError } from './describe.js';

/** A build that ended (the engine's BuildOutcome, or one rebuilt from the event log). */
export interface EndedBuild {
  buildId: string;
  builderName: string;
  status: 'succeeded' | 'failed' | 'interrupted';
  failure?: { phase: string; error: ErrorInfo };
  cleanedUp?: boolean;
  phase?: string | null;
  logFailure?: { message: string; storeUnavailable: boolean };
}

/** What to tell the user after a build that did not succeed. */
export function nextSteps(o: EndedBuild): string {
  const resume = `kiln resume ${o.buildId}`;
  const gc = `kiln gc --build ${o.buildId} --force`;
  if (o.status === 'interrupted' && o.logFailure?.storeUnavailable) {
    return (
      `Build ${o.buildId} (${o.builderName}) stopped during ${o.phase ?? 'start-up'}: ${o.logFailure.message}. ` +
      `Every step it recorded is kept, and nothing was done that the store does not know of.\n  once the store is back, continue:  ${resume}\n  clean up:  ${gc}\n`
    );
  }
  if (o.status === 'interrupted' && o.logFailure) {
    return `Build ${o.buildId} (${o.builderName}) stopped during ${o.phase ?? 'start-up'}: the event log could not be written (${o.logFailure.message}).\n  once that is fixed, continue:  ${resume}\n  clean up:  ${gc}\n`;
  }
  if (o.status === 'interrupted') {
    return `Build ${o.buildId} (${o.builderName}) was interrupted during ${o.phase ?? 'start-up'}; its resources are kept.\n  continue:  ${resume}\n  clean up:  ${gc}\n`;
  }
  const cause = `Build ${o.buildId} (${o.builderName}) failed in ${o.failure?.phase}: ${describeError(o.failure?.error)}\n`;
  // A transient failure (Scaleway's 5xx, 429, resets, timeouts) has nothing to fix: only to try again later.
  const transient = o.failure?.error.retryable === true;
  if (o.cleanedUp) {
    return transient
      ? cause + `  The failure is transient: nothing in the template needs fixing. Everything the build created was removed: run \`kiln build\` again later.\n`
      : cause + `  Everything the build created was removed. Fix the cause and run \`kiln build\` again.\n`;
  }
  if (transient) {
    return cause + `  The failure is transient: nothing in the template needs fixing. Its resources are kept.\n  continue where it stopped, later:  ${resume}\n  remove them:  ${gc}\n`;
  }
  return cause + `  Its resources are kept for inspection.\n  retry the failed phase after fixing the cause:  ${resume}\n  remove them:  ${gc}\n`;
}
