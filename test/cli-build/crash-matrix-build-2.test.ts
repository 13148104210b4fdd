// The crash matrix (see crash-matrix.ts): a successful build killed at each of its events and
// calls — part 2 of 2.
import { declareCrashMatrix } from './crash-matrix.js';

await declareCrashMatrix({ scenarios: ['build'], slice: [2, 2] });
