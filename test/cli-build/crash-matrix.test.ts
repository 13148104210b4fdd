// The crash matrix (see crash-matrix.ts): the check that every event type and phase has a kill
// point and every cloud-changing call an after-call one, and the cases of every scenario that has
// no test file of its own.
import { declareCrashMatrix, SCENARIOS, SPLIT_OUT } from './crash-matrix.js';

await declareCrashMatrix({ scenarios: SCENARIOS.map((s) => s.name).filter((name) => !SPLIT_OUT.includes(name)), coverage: true });
