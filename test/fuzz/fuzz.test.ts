// Property-based tests over kiln's input readers (issue 25): for any input — near-valid HCL2 and
// JSON templates, --var and --var-file values, the scw config.yaml, argv — kiln ends with success
// or with exit 2 and a message, never an unexpected exception, a hang or an out-of-memory. The
// targets and their generators are in scripts/lib/fuzz-targets.ts; this runs a small budget with a
// fixed seed (the same inputs every run); `npm run fuzz -- --runs N` runs a large one.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { fuzz, TARGETS } from '../../scripts/lib/fuzz-targets.js';

// A fixed seed: a failure here is reproducible with `npm run fuzz -- --seed <seed> --target <name>`.
const SEED = 25;
const RUNS = 400;

for (const target of TARGETS) {
  test(`fuzz ${target.name}: ${target.describe} — success or exit 2 with a message, for ${RUNS} inputs`, { timeout: 180_000 }, async () => {
    const { tried, details } = await fuzz(target, { runs: RUNS, seed: SEED });
    assert.ok(!details.failed, `seed ${SEED}, target ${target.name}: failed after ${details.numRuns} inputs; shrunk input:\n${JSON.stringify(details.counterexample?.[0])}\n${details.errorInstance instanceof Error ? details.errorInstance.message : String(details.errorInstance)}`);
    assert.equal(tried >= RUNS, true, `${tried} inputs tried`);
  });
}
