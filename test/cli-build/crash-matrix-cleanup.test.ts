// The crash matrix (see crash-matrix.ts): killed during the cleanup after a failure.
import { declareCrashMatrix } from './crash-matrix.js';

await declareCrashMatrix({ scenarios: ['cleanup after a failure'] });
