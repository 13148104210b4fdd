// Packer's template functions and Go's layouts/durations, as kiln evaluates them.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { builder, fixture, problemAt } from './helpers.js';
import { isoTime } from '../../src/template/isotime.js';
import { parseDuration, formatDuration } from '../../src/template/duration.js';

const evaluation = { initTime: '2021-03-04T05:06:07.089Z', uuid: '0f8c2d4e-1a2b-4c3d-9e8f-7a6b5c4d3e2f' };
const unix = String(Math.floor(Date.parse(evaluation.initTime) / 1000));

const cases: Array<{ expression: string; expected: string | ((dir: string) => string); name?: string }> = [
  { expression: 'img-{{timestamp}}', expected: `img-${unix}` },
  { expression: '{{uuid}}', expected: evaluation.uuid },
  { expression: '{{isotime}}', expected: '2021-03-04T05:06:07Z' },
  { expression: '{{isotime "2006-01-02"}}', expected: '2021-03-04' },
  { expression: '{{isotime `20060102-1504`}}', expected: '20210304-0506' },
  { expression: '{{ isotime "Jan 2" }}', expected: 'Mar 4' },
  { expression: '{{build_name}}', expected: 'scaleway' },
  { expression: '{{build_name}}-x', expected: 'web-x', name: 'web' },
  { expression: '{{build_type}}', expected: 'scaleway' },
  { expression: '{{user `flavour`}}', expected: 'Minimal' },
  { expression: '{{ user "flavour" }}', expected: 'Minimal' },
  { expression: 'img-{{lower (user `flavour`)}}', expected: 'img-minimal' },
  { expression: '{{user `flavour` | upper}}', expected: 'MINIMAL' },
  { expression: '{{or (user `empty`) `fallback`}}', expected: 'fallback' },
  { expression: '{{"{{"}}literal}}', expected: '{{literal}}' },
  { expression: 'a {{- " b" -}}   c', expected: 'a bc' },
  { expression: '{{template_dir}}', expected: (dir) => dir },
  // Packer's split, replace and replace_all, as Kubernetes image-builder's templates use them.
  { expression: '{{ split (user `rpm`) "-" 0 }}', expected: '1.31.4' },
  { expression: '{{split `a-b-c` `-` 2}}', expected: 'c' },
  { expression: '{{user `semver` | replace "v" "" 1}}', expected: '1.31.4' },
  { expression: '{{replace `.` `-` -1 `a.b.c`}}', expected: 'a-b-c' },
  { expression: '{{replace `.` `-` 1 `a.b.c`}}', expected: 'a-b.c' },
  { expression: '{{replace_all `.` `_` (user `semver`)}}', expected: 'v1_31_4' },
  { expression: 'plain text, no actions', expected: 'plain text, no actions' },
];

for (const { expression, expected, name } of cases) {
  test(`template function: ${expression}`, async () => {
    const f = fixture({
      variables: { flavour: 'Minimal', empty: '', semver: 'v1.31.4', rpm: '1.31.4-150500.1.1' },
      builders: [builder({ image_name: expression, ...(name ? { name } : {}) })],
    });
    const { builds } = await f.load({ evaluation });
    assert.equal(builds[0]!.imageName, typeof expected === 'function' ? expected(f.dir) : expected);
  });
}

test('{{timestamp}} and {{uuid}} are evaluated once per load and stable everywhere in it', async () => {
  const f = fixture({
    variables: { stamp: '{{timestamp}}-{{uuid}}' },
    builders: [
      builder({ name: 'a', image_name: 'i-{{timestamp}}-{{uuid}}', snapshot_name: 's-{{timestamp}}-{{uuid}}' }),
      builder({ name: 'b', server_name: 'srv-{{uuid}}' }),
    ],
    provisioners: [{ type: 'shell', inline: ['echo {{user `stamp`}} {{timestamp}}-{{uuid}}'] }],
  });
  const { builds, evaluation: used } = await f.load();
  const stamp = `${Math.floor(Date.parse(used.initTime) / 1000)}-${used.uuid}`;
  const [a, b] = builds;
  assert.equal(a!.imageName, `i-${stamp}`);
  assert.equal(a!.snapshotName, `s-${stamp}`);
  assert.equal(b!.serverName, `srv-${used.uuid}`);
  for (const build of builds) {
    const shell = build.provisioners[0]!;
    assert.equal(shell.type === 'shell' && shell.inline?.[0], `echo ${stamp} ${stamp}`);
  }
  // The defaults use the same values: packer-<uuid> and packer-<timestamp>.
  assert.equal(a!.serverName, `packer-${used.uuid}`);
  assert.equal(b!.imageName, `packer-${stamp.split('-')[0]}`);
});

test('passing a previous evaluation back reproduces the same names (resume), a new load makes new ones', async () => {
  const f = fixture({ builders: [builder()] });
  const first = await f.load();
  const again = await f.load({ evaluation: first.evaluation });
  assert.equal(again.builds[0]!.serverName, first.builds[0]!.serverName);
  assert.equal(again.builds[0]!.imageName, first.builds[0]!.imageName);
  const fresh = await f.load();
  assert.notEqual(fresh.builds[0]!.serverName, first.builds[0]!.serverName);
});

const errorCases: Array<{ expression: string; message: RegExp; hint?: RegExp }> = [
  { expression: '{{env `HOME`}}', message: /only be used in the "variables" section/, hint: /declare a variable .*\{\{env `HOME`\}\}/ },
  { expression: '{{timestmp}}', message: /unknown template function "timestmp"/, hint: /did you mean "timestamp"\?/ },
  { expression: '{{vault `/secret/x` `key`}}', message: /Packer function "vault" is not supported by kiln/, hint: /kiln supports user, env, timestamp/ },
  { expression: '{{split `a-b` `-` 2}}', message: /piece 2 of "a-b" does not exist: the separator "-" gives 2/ },
  { expression: '{{replace `v` `` `one` `v1`}}', message: /replace needs a whole number where "one" is/ },
  { expression: 'x-{{user `flavour`', message: /unclosed template action/ },
  { expression: '{{user}}', message: /user takes one argument, got 0/, hint: /\{\{user `name`\}\}/ },
  { expression: '{{.Path}}', message: /\{\{\.Path\}\} has no value here/, hint: /execute_command/ },
  { expression: '{{}}', message: /empty template action/ },
];

for (const { expression, message, hint } of errorCases) {
  test(`template function error: ${expression}`, async () => {
    const problems = await fixture({ variables: { flavour: 'x' }, builders: [builder({ image_name: expression })] }).problems();
    const problem = problemAt(problems, 'builders[0].image_name');
    assert.match(problem.message, message);
    if (hint) assert.match(problem.hint ?? '', hint);
  });
}

test('a {{user}} of a variable neither declared nor set reads as "" with a warning, as in Packer 1.6.6', async () => {
  const f = fixture({ variables: { flavour: 'x' }, builders: [builder({ image_name: 'img-{{user `flavor`}}-{{user `nothing_like_it`}}' })] });
  const { builds, warnings } = await f.load();
  assert.equal(builds[0]!.imageName, 'img--');
  assert.ok(warnings.some((w) => /"flavor" is not declared in "variables" and no --var or --var-file sets it; it reads as an empty string \(did you mean "flavour"\?\)/.test(w)), warnings.join('\n'));
  assert.ok(warnings.some((w) => /"nothing_like_it" is not declared/.test(w)), warnings.join('\n'));
  // Set with --var, it has a value: Packer reads undeclared -var values too (the warning says it is undeclared).
  const set = await f.load({ vars: { flavor: 'y' } });
  assert.equal(set.builds[0]!.imageName, 'img-y-');
  assert.ok(set.warnings.some((w) => /--var sets "flavor", which the template does not declare/.test(w)), set.warnings.join('\n'));
});

test('{{build_name}} has no value in the variables section', async () => {
  const problems = await fixture({ variables: { n: '{{build_name}}' }, builders: [builder()] }).problems();
  assert.match(problemAt(problems, 'variables.n').message, /\{\{build_name\}\} has no value in the "variables" section/);
});

const layouts: Array<[string, string]> = [
  ['2006-01-02T15:04:05Z07:00', '2021-03-04T05:06:07Z'],
  ['Jan 2, 2006 at 3:04pm (MST)', 'Mar 4, 2021 at 5:06am (UTC)'],
  ['Monday January _2 15:04:05.000 2006', 'Thursday March  4 05:06:07.089 2021'],
  ['Mon Jan 02 03PM', 'Thu Mar 04 05AM'],
  ['06/1/2', '21/3/4'],
  ['2006-002', '2021-063'],
  ['15:04:05.999999', '05:06:07.089'],
  ['2006-01-02 15:04:05 -0700', '2021-03-04 05:06:07 +0000'],
  ['20060102150405', '20210304050607'],
  ['2006.01.02', '2021.03.04'],
  ['05,000', '07,089'],
];
for (const [layout, expected] of layouts) {
  test(`isotime layout "${layout}"`, () => {
    assert.equal(isoTime(new Date(evaluation.initTime), layout), expected);
  });
}

const durations: Array<[string, number | undefined]> = [
  ['90s', 90_000],
  ['5m', 300_000],
  ['1h30m', 5_400_000],
  ['500ms', 500],
  ['1.5h', 5_400_000],
  ['2h45m30.5s', 9_930_500],
  ['0', 0],
  ['-1s', -1000],
  ['5', undefined],
  ['5 m', undefined],
  ['5min', undefined],
  ['m', undefined],
  ['', undefined],
];
for (const [text, ms] of durations) {
  test(`duration "${text}" → ${ms ?? 'invalid'}`, () => {
    assert.equal(parseDuration(text), ms);
    if (ms !== undefined && ms > 0) assert.equal(parseDuration(formatDuration(ms)), ms, 'formatDuration round-trips');
  });
}
