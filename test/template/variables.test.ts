// User variables: defaults, --var, --var-file, {{env}}, required variables, references between
// variables, and every way of getting them wrong.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { join } from 'node:path';
import { builder, fixture, problemAt, cleanEnv } from './helpers.js';
import { parseVarArgs, templateInputsFromArgv, TemplateError } from '../../src/template/index.js';

const template = (variables: Record<string, unknown>, imageName = '{{user `name`}}') => ({
  variables,
  builders: [builder({ image_name: imageName })],
});

const precedence: Array<{ title: string; files?: Record<string, unknown>; varFiles?: string[]; vars?: Record<string, string>; env?: Record<string, string>; expected: string; variables?: Record<string, unknown> }> = [
  { title: 'the default', expected: 'from-default' },
  { title: 'a --var-file over the default', files: { 'a.json': { name: 'from-file-a' } }, varFiles: ['a.json'], expected: 'from-file-a' },
  { title: 'a later --var-file over an earlier one', files: { 'a.json': { name: 'from-file-a' }, 'b.json': { name: 'from-file-b' } }, varFiles: ['a.json', 'b.json'], expected: 'from-file-b' },
  { title: '--var over --var-file', files: { 'a.json': { name: 'from-file-a' } }, varFiles: ['a.json'], vars: { name: 'from-var' }, expected: 'from-var' },
  { title: '{{env}} in a default', variables: { name: '{{env `IMAGE_NAME`}}' }, env: { IMAGE_NAME: 'from-env' }, expected: 'from-env' },
  { title: 'a default referring to another variable', variables: { name: '{{user `base`}}-2', base: 'base' }, expected: 'base-2' },
  { title: 'a chain of references, declared in any order', variables: { name: '{{user `b`}}!', b: '{{user `c`}}{{user `c`}}', c: 'c' }, expected: 'cc!' },
  { title: 'a --var value using template functions', vars: { name: 'v-{{user `base`}}' }, variables: { name: 'x', base: 'base' }, expected: 'v-base' },
];

for (const { title, files, varFiles, vars, env, expected, variables } of precedence) {
  test(`variable value: ${title}`, async () => {
    const f = fixture(template(variables ?? { name: 'from-default' }), files);
    const { builds } = await f.load({
      ...(varFiles ? { varFiles: varFiles.map((file) => join(f.dir, file)) } : {}),
      ...(vars ? { vars } : {}),
      env: cleanEnv(f.dir, env),
    });
    assert.equal(builds[0]!.imageName, expected);
  });
}

test('{{env}} of an unset variable is empty, so the key falls back to its default', async () => {
  const f = fixture(template({ name: '{{env `NOT_SET_ANYWHERE`}}' }));
  const { builds, evaluation } = await f.load();
  assert.equal(builds[0]!.imageName, `packer-${Math.floor(Date.parse(evaluation.initTime) / 1000)}`);
});

test('a required variable not given is reported once, not again where it is used', async () => {
  const problems = await fixture(template({ name: null })).problems();
  assert.deepEqual(problems.map((p) => p.path), ['variables.name']);
});

test('a required variable (null default) is accepted once given', async () => {
  const { builds } = await fixture(template({ name: null })).load({ vars: { name: 'given' } });
  assert.equal(builds[0]!.imageName, 'given');
});

const errors: Array<{ title: string; variables?: unknown; vars?: Record<string, string>; files?: Record<string, unknown>; varFiles?: string[]; sensitive?: unknown; path: string | ((dir: string) => string); message: RegExp; hint?: RegExp }> = [
  { title: 'a required variable not set', variables: { name: null }, path: 'variables.name', message: /variable "name" is required \(its default is null\) but no value was given/, hint: /--var name=VALUE/ },
  { title: 'a number as default', variables: { name: 5 }, path: 'variables.name', message: /must be a string or null/, hint: /quote it: "5"/ },
  { title: 'variables not an object', variables: ['name'], path: 'variables', message: /must be an object/ },
  { title: 'a loop between variables', variables: { name: '{{user `a`}}', a: '{{user `b`}}', b: '{{user `a`}}' }, path: 'variables.b', message: /refer to each other in a loop: a → b → a/ },
  { title: 'a missing --var-file', variables: { name: 'x' }, varFiles: ['missing.json'], path: (dir) => `--var-file ${join(dir, 'missing.json')}`, message: /does not exist/ },
  { title: 'a --var-file that is not JSON', variables: { name: 'x' }, files: { 'bad.json': '{"name": oops}' }, varFiles: ['bad.json'], path: (dir) => `--var-file ${join(dir, 'bad.json')}`, message: /is not valid JSON/ },
  { title: 'a --var-file value that is not a string', variables: { name: 'x' }, files: { 'v.json': { name: 3 } }, varFiles: ['v.json'], path: (dir) => `--var-file ${join(dir, 'v.json')}: name`, message: /must be a string, not a number/ },
  { title: 'an undeclared sensitive variable', variables: { token: 'x', name: 'y' }, sensitive: ['tokn'], path: 'sensitive-variables[0]', message: /"tokn" is not declared in "variables"/, hint: /did you mean "token"\?/ },
  { title: 'sensitive-variables not a list', variables: { name: 'y' }, sensitive: 'name', path: 'sensitive-variables', message: /must be a list of variable names/ },
];

for (const { title, variables, vars, files, varFiles, sensitive, path, message, hint } of errors) {
  test(`variable error: ${title}`, async () => {
    const body: Record<string, unknown> = { ...template({}), variables };
    if (sensitive !== undefined) body['sensitive-variables'] = sensitive;
    const f = fixture(body, files);
    const problems = await f.problems({ ...(vars ? { vars } : {}), ...(varFiles ? { varFiles: varFiles.map((file) => join(f.dir, file)) } : {}) });
    const problem = problemAt(problems, typeof path === 'function' ? path(f.dir) : path);
    assert.match(problem.message, message);
    if (hint) assert.match(problem.hint ?? '', hint);
  });
}

test('var files as Packer 1.6.6 reads them: null sets "" (a null default is then given), and a value may use {{user}}', async () => {
  const body = {
    ...template({ name: 'x' }),
    variables: { zone: 'fr-par-1', name: 'x', packages: null, other: 'kept' },
    provisioners: [{ type: 'shell', inline: ['echo "[{{user `packages`}}]" {{user `other`}}'] }],
  };
  const f = fixture(body, { 'v.json': { name: 'img-{{user `zone`}}', packages: null, other: null } });
  const { builds } = await f.load({ varFiles: [join(f.dir, 'v.json')] });
  assert.equal(builds[0]!.imageName, 'img-fr-par-1');
  const shell = builds[0]!.provisioners[0]!;
  // Packer 1.6.6 (checked with its null builder) reads a var file's null as "", over a default too.
  assert.equal(shell.type === 'shell' && shell.inline?.[0], 'echo "[]" ');
});

test('an undeclared variable in a default reads as "" with a warning, as in Packer 1.6.6', async () => {
  const { builds, warnings } = await fixture(template({ name: 'a{{user `nope`}}b' })).load();
  assert.equal(builds[0]!.imageName, 'ab');
  assert.ok(warnings.some((w) => /"nope" is not declared in "variables"/.test(w)), warnings.join('\n'));
});

test('a --var the template does not declare is a warning with a suggestion, not an error', async () => {
  const { warnings } = await fixture(template({ name: 'x' })).load({ vars: { nam: 'y' } });
  assert.ok(warnings.some((w) => /--var sets "nam", which the template does not declare/.test(w) && /did you mean "name"\?/.test(w)), warnings.join('\n'));
});

test('parseVarArgs splits at the first "=" and later values win', () => {
  assert.deepEqual(parseVarArgs(['a=1', 'b=x=y', 'a=2', 'empty=']), { a: '2', b: 'x=y', empty: '' });
});

test('parseVarArgs reports every malformed argument without echoing values', () => {
  try {
    parseVarArgs(['ok=1', 'novalue', '=x', 'sk-3f9a 77 secret']);
    assert.fail('expected a TemplateError');
  } catch (error) {
    assert.ok(error instanceof TemplateError);
    assert.equal(error.problems.length, 3);
    assert.match(error.problems[0]!.message, /"novalue" has no value/);
    assert.match(error.problems[1]!.message, /argument 3 has an empty variable name/);
    assert.match(error.problems[2]!.message, /argument 4 is not of the form name=value/);
    assert.doesNotMatch(error.message, /secret/);
    assert.equal(error.problems[0]!.hint, 'write --var name=value');
  }
});

test('templateInputsFromArgv resolves --var-file paths against the working directory', () => {
  const inputs = templateInputsFromArgv({ var: ['a=1'], 'var-file': ['vars.json'] });
  assert.deepEqual(inputs, { vars: { a: '1' }, varFiles: [join(process.cwd(), 'vars.json')] });
});
