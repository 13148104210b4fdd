// The crash matrix (see crash-matrix.ts): a successful build killed at its events and calls (the
// sample in `npm test`, every kill point in `npm run test:full`) — part 1 of 2.
import { declareCrashMatrix } from './crash-matrix.js';

await declareCrashMatrix({ scenarios: ['build'], slice: [1, 2] });
