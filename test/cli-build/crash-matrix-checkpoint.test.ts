// The crash matrix (see crash-matrix.ts): killed while a build makes checkpoints (the build cache, issue 24).
import { declareCrashMatrix } from './crash-matrix.js';

await declareCrashMatrix({ scenarios: ['checkpoint'] });
