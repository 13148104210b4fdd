// The crash matrix (see crash-matrix.ts) against PostgreSQL (issue 16, issue 25), each case with a
// database of its own in the run's cluster — part 1 of 2: in `npm test` the `build` scenario's
// sample (its KILN_CRASH_AT points), in `npm run test:full` every kill point of every scenario (POSTGRES_SCENARIOS).
import { test } from 'node:test';
import { postgresUnavailableReason } from '../helpers/postgres.js';
import { declareCrashMatrix, POSTGRES_SCENARIOS } from './crash-matrix.js';

const skip = postgresUnavailableReason();
if (skip) test('crash matrix on PostgreSQL', { skip }, () => {});
else await declareCrashMatrix({ scenarios: POSTGRES_SCENARIOS, slice: [1, 2], store: 'postgres' });
