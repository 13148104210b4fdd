// Two tiers of tests. `npm test` (the README's and CI's command) must stay under 15 minutes on
// 2 cores, so a matrix whose every case would not fit runs a fixed, documented sample there;
// `npm run test:full` sets KILN_TEST_FULL=1 and runs every case. A test file that has both forms
// chooses with `FULL_TESTS`, and says in its header which cases the sample keeps and why.
export const FULL_TESTS = process.env.KILN_TEST_FULL === '1';
