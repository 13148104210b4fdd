// Runs every compiled test file (dist/test/**/*.test.js) with Node's own test runner.
// Node 20's `--test` takes no globs, so the files are listed here; extra arguments narrow the
// set by substring, e.g. `node scripts/run-tests.mjs sim/` .
import { readdirSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { spawnSync } from 'node:child_process';

function find(dir) {
  let out = [];
  for (const name of readdirSync(dir)) {
    const path = join(dir, name);
    if (statSync(path).isDirectory()) out = out.concat(find(path));
    else if (name.endsWith('.test.js')) out.push(path);
  }
  return out;
}

const filters = process.argv.slice(2);
const files = find('dist/test').sort().filter((f) => filters.length === 0 || filters.some((x) => f.includes(x)));
if (files.length === 0) {
  console.error(`no test files matched ${filters.join(' ') || 'dist/test/**/*.test.js'}`);
  process.exit(1);
}
// A test that hangs fails after 5 minutes instead of holding CI until its limit; tests that
// need longer say so themselves.
const result = spawnSync(process.execPath, ['--test', '--test-concurrency=2', '--test-timeout=300000', ...files], { stdio: 'inherit' });
process.exit(result.status ?? 1);
