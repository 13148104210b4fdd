// Templates written to exhaust kiln (issue 25): nesting deep enough to overflow the stack, range()
// asked for a billion values or for a step lost at 1e16's precision, a regex that backtracks
// exponentially in JavaScript's engine. Each ends in exit 2 with the place and the cause, never a
// stack trace, a hang or an out-of-memory (this file's timeouts are the bound).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { join } from 'node:path';
import { runValidate } from '../../../src/template/validate.js';
import { MAX_NESTING } from '../../../src/template/hcl/parse-cursor.js';
import { runKiln } from '../../helpers/cli.js';
import { tempDir, writeFiles } from '../helpers.js';

const local = (expr: string) => `locals {\n  x = ${expr}\n}\n`;
const deep = 5_000;

/** Hostile templates: the file, and what the one problem must say (file:line:col, then the cause). */
const cases: { name: string; file: string; text: string; says: RegExp }[] = [
  { name: 'nested parentheses', file: 't.pkr.hcl', text: local(`${'('.repeat(deep)}1${')'.repeat(deep)}`), says: /t\.pkr\.hcl:2:\d+: Nesting too deep/ },
  { name: 'nested brackets', file: 't.pkr.hcl', text: local(`${'['.repeat(deep)}1${']'.repeat(deep)}`), says: /t\.pkr\.hcl:2:\d+: Nesting too deep/ },
  { name: 'nested objects', file: 't.pkr.hcl', text: local(`${'{a='.repeat(deep)}1${'}'.repeat(deep)}`), says: /t\.pkr\.hcl:2:\d+: Nesting too deep/ },
  { name: 'nested interpolations', file: 't.pkr.hcl', text: local(`"${'${"'.repeat(deep)}a${'"}'.repeat(deep)}"`), says: /t\.pkr\.hcl:2:\d+: Nesting too deep/ },
  { name: 'nested template ifs', file: 't.pkr.hcl', text: local(`"${'%{if true}'.repeat(deep)}a${'%{endif}'.repeat(deep)}"`), says: /t\.pkr\.hcl:2:\d+: Nesting too deep/ },
  { name: 'a chain of unary minus', file: 't.pkr.hcl', text: local(`${'-'.repeat(deep)}1`), says: /t\.pkr\.hcl:2:\d+: Nesting too deep/ },
  { name: 'nested blocks', file: 't.pkr.hcl', text: 'a {\n'.repeat(deep) + '}\n'.repeat(deep), says: /t\.pkr\.hcl:\d+:\d+: Nesting too deep/ },
  { name: 'nested JSON arrays', file: 't.pkr.json', text: `{"locals": {"x": ${'['.repeat(100_000)}${']'.repeat(100_000)}}}`, says: /t\.pkr\.json:1:\d+: Nesting too deep/ },
  { name: 'nested JSON blocks', file: 't.pkr.json', text: `{"locals": ${'['.repeat(100_000)}${']'.repeat(100_000)}}`, says: /t\.pkr\.json:1:\d+: Nesting too deep/ },
  { name: 'range(1e9)', file: 't.pkr.hcl', text: local('range(1e9)'), says: /t\.pkr\.hcl:2:7: .*"range": more than 1024 values were generated/ },
  // Packer accepts it (two values); a loop that adds a step lost at 1e16's precision never ends.
  // Only the template's lack of a build is left to say.
  { name: 'range(1e16, 1e16+2): a step lost at that magnitude', file: 't.pkr.hcl', text: local('range(1e16, 1e16 + 2)'), says: /t\.pkr\.hcl:1:1: No build block/ },
  {
    name: 'a regex that backtracks exponentially in JavaScript',
    file: 't.pkr.hcl',
    text: local(`regex("^(a+)+$", "${'a'.repeat(5_000)}!")`),
    says: /t\.pkr\.hcl:2:7: .*"regex": pattern did not match any part of the given string/,
  },
];

for (const c of cases) {
  test(`hostile template, ${c.name}: exit 2, the place and the cause`, { timeout: 60_000 }, async () => {
    const dir = tempDir();
    writeFiles(dir, { [c.file]: c.text });
    const output: string[] = [];
    const code = await runValidate({ template: join(dir, c.file) }, { stdout: (t) => output.push(t), stderr: (t) => output.push(t) });
    const said = output.join('');
    assert.equal(code, 2, said.slice(0, 2000));
    assert.match(said, c.says);
    assert.doesNotMatch(said, /\n\s+at .*:\d+:\d+\)?\n/, 'no stack trace');
  });
}

test('nesting just inside the limit loads and evaluates: the limit leaves room for the evaluator', { timeout: 60_000 }, async () => {
  const dir = tempDir();
  // Body, locals block and the attribute take three levels; each `[(` pair two.
  const pairs = Math.floor((MAX_NESTING - 3) / 2);
  writeFiles(dir, { 't.pkr.hcl': local(`${'[('.repeat(pairs)}1${')]'.repeat(pairs)}`) });
  const output: string[] = [];
  await runValidate({ template: dir }, { stdout: (t) => output.push(t), stderr: (t) => output.push(t) });
  assert.doesNotMatch(output.join(''), /Nesting too deep|Maximum call stack/);
});

test('kiln validate on a template nested 5000 deep: exit 2 with file:line:col, no stack trace', { timeout: 120_000 }, async () => {
  const dir = tempDir();
  writeFiles(dir, { 't.pkr.hcl': local(`${'('.repeat(deep)}1${')'.repeat(deep)}`) });
  const run = await runKiln(['validate', dir]);
  assert.equal(run.code, 2, run.stderr);
  assert.match(run.stderr, /t\.pkr\.hcl:2:\d+: Nesting too deep: .* at most 200 levels deep/);
  assert.doesNotMatch(run.stderr, /RangeError|Maximum call stack|\n\s+at /);
});
