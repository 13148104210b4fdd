// A build that ran against the simulator embedded in `kiln build --sim` lives and dies with that
// process: its cloud was in memory. Its build.started says so (`simulator: 'embedded'`); such a
// build is never resumed or gc'ed against any other API — with real credentials in the shell that
// would create real servers from a demo template. When its process ends, its record ends too.
import { deleteKeyPair } from './keys.js';
import type { BuildStore } from '../store/index.js';

export { EMBEDDED_SIMULATOR } from '../store/index.js';

/** What to tell the user about such a build once its process ended, and how to get a resumable one. */
export function SIMULATOR_ENDED(buildId: string): string {
  return (
    `build ${buildId} ran against the simulator embedded in \`kiln build --sim\`, which ended with that command, and ` +
    'everything the build created with it: there is nothing to resume or remove, and kiln will not continue it against another API. ' +
    'Run `kiln build --sim` again; for a simulated build you can interrupt and resume, start `kiln sim --state-dir <dir>` ' +
    'and build against it with SCW_API_URL set to the address it prints.'
  );
}

/** Ends the record of a build whose embedded simulator is gone: `cleaned` (nothing of it exists), its temporary key removed. */
export async function endWithSimulator(store: BuildStore, buildId: string, stateDir: string): Promise<void> {
  await store.append(buildId, { type: 'build.cleaned', data: { by: 'simulator' } });
  deleteKeyPair(stateDir, buildId);
}
