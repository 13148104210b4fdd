// The crash matrix (see crash-matrix.ts) against PostgreSQL (issue 16): the successful build's
// kill points, each case with a database of its own in the run's cluster — part 1 of 2.
import { test } from 'node:test';
import { postgresUnavailableReason } from '../helpers/postgres.js';
import { declareCrashMatrix } from './crash-matrix.js';

const skip = postgresUnavailableReason();
if (skip) test('crash matrix on PostgreSQL: build', { skip }, () => {});
else await declareCrashMatrix({ scenarios: ['build'], slice: [1, 2], store: 'postgres' });
