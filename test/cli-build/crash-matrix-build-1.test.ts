// The crash matrix (see crash-matrix.ts): a successful build killed at each of its events and
// calls — part 1 of 2.
import { declareCrashMatrix } from './crash-matrix.js';

await declareCrashMatrix({ scenarios: ['build'], slice: [1, 2] });
