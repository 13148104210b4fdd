// What the fuzzer (test/fuzz/fuzz.test.ts, scripts/fuzz.ts) found, each as the shrunk input it
// reported: the behaviour a user now gets instead.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { runValidate } from '../../src/template/validate.js';
import { readScalewayConfig } from '../../src/template/credentials.js';
import { Problems } from '../../src/template/errors.js';
import { tempDir } from '../template/helpers.js';
import { runKiln } from '../helpers/cli.js';

/** `kiln validate` on a file with this content: the exit code and everything it printed. */
async function validate(file: string, content: string, json = false): Promise<{ code: number; said: string }> {
  const dir = tempDir();
  writeFileSync(join(dir, file), content);
  const output: string[] = [];
  const code = await runValidate({ template: join(dir, file), json }, { stdout: (t) => output.push(t), stderr: (t) => output.push(t) });
  return { code, said: output.join('') };
}

const PROJECT = '11111111-2222-4333-8444-555555555555';
const base = { image: 'ubuntu_jammy', zone: 'fr-par-1', commercial_type: 'DEV1-S', project_id: PROJECT };

test('a builder, provisioner or post-processor type that is not a string is named as such, not "[object Object]"', async () => {
  // json-template, seed 1: {"builders":[{"type":{},…}]}
  const builder = await validate('t.json', JSON.stringify({ builders: [{ type: {}, ...base }] }));
  assert.equal(builder.code, 2);
  assert.match(builder.said, /builders\[0\]\.type: a builder type is a string, not an object/);
  const others = await validate('t.json', JSON.stringify({ builders: [{ type: 'scaleway', ...base }], provisioners: [{ type: ['shell'] }], 'post-processors': [{ type: 3 }] }));
  assert.equal(others.code, 2);
  assert.match(others.said, /provisioners\[0\]\.type: a provisioner type is a string, not a list/);
  assert.match(others.said, /post-processors\[0\]\.type: a post-processor type is a string, not a number/);
  assert.doesNotMatch(builder.said + others.said, /\[object Object\]/);
});

async function readConfig(content: string, profile?: string) {
  const dir = tempDir();
  const path = join(dir, 'config.yaml');
  writeFileSync(path, content);
  const problems = new Problems();
  const file = await readScalewayConfig({ SCW_CONFIG_PATH: path, ...(profile ? { SCW_PROFILE: profile } : {}) }, undefined, problems);
  return { file, problems: problems.list };
}

test('a config.yaml whose aliases expand too far is a problem with the file, not a ReferenceError', async () => {
  // scw-config, seed 1: yaml refuses to expand it ("Excessive alias count …") and the error escaped.
  const content = 'a: &a [1,1,1,1,1,1]\nb: &b [*a,*a,*a,*a,*a,*a]\nc: &c [*b,*b,*b,*b,*b,*b]\nd: &d [*c,*c,*c,*c,*c,*c]\ne: [*d,*d,*d,*d,*d,*d]\n';
  const { file, problems } = await readConfig(content);
  assert.equal(file.status, 'invalid');
  assert.equal(problems.length, 1);
  assert.match(problems[0]!.message, /YAML aliases that expand too far/);
  assert.match(problems[0]!.path, /config\.yaml$/);
});

test('SCW_PROFILE=constructor (or __proto__) is a missing profile, not one of Object\'s own keys', async () => {
  for (const profile of ['constructor', '__proto__', 'toString']) {
    const { file, problems } = await readConfig('profiles:\n  work:\n    access_key: SCWABCDEFGHIJKLMNOPQ\n', profile);
    assert.equal(file.status, 'profile missing', profile);
    assert.match(problems[0]?.message ?? '', new RegExp(`the profile "${profile}" is not in the Scaleway config file`));
    assert.match(problems[0]?.hint ?? '', /its profiles are work/);
  }
});

test('{{env `__proto__`}} and env("__proto__") read an unset variable (""), not Object\'s prototype', async () => {
  // vars, seed 2: {"_proto__":"pre-{{env `__proto__` | upper}}-post"} in a --var-file threw a TypeError.
  const credentials = { access_key: 'SCWABCDEFGHIJKLMNOPQ', secret_key: '6f1c2a3b-4d5e-4f60-8a7b-9c0d1e2f3a4b' };
  const json = await validate('t.json', JSON.stringify({ variables: { p: '{{env `__proto__`}}{{env `constructor`}}' }, builders: [{ type: 'scaleway', ...base, ...credentials, image_name: 'img-{{user `p` | upper}}' }] }), true);
  assert.equal(json.code, 0, json.said);
  assert.equal(JSON.parse(json.said).builds[0].imageName, 'img-');
  const hcl = await validate('t.pkr.hcl', 'variable "p" {\n  default = "${env("__proto__")}${env("constructor")}"\n}\nlocals {\n  x = upper(var.p)\n}\n');
  assert.match(hcl.said, /No build block/);
  assert.doesNotMatch(hcl.said, /TypeError|\[object|function/);
});

test('kiln build build --var (a flag with no value after a stray word): exit 2 with yargs\' message, no stack trace', { timeout: 60_000 }, async () => {
  // argv, seed 2: yargs' own YError went through the fail handler's `throw` and printed its trace.
  const run = await runKiln(['build', 'build', '--var']);
  assert.equal(run.code, 2, run.stderr);
  assert.match(run.stderr, /^kiln: Not enough arguments following: var\nRun `kiln --help` for usage\.\n$/);
});

test('a flag value a command refuses (-parallel-builds=-1, --json with -machine-readable): exit 2 with the reason, no stack trace', { timeout: 60_000 }, async () => {
  // argv, seed 3: ["build","-parallel-builds=-1","0"] — the command's .check threw an Error, which
  // the fail handler rethrew.
  for (const [args, says] of [
    [['build', '-parallel-builds=-1', 't.json'], /^kiln: --parallel-builds takes a whole number ≥ 0\n/],
    [['build', '--json', '-machine-readable', 't.json'], /^kiln: --json and -machine-readable are two output formats: give one of them\n/],
  ] as const) {
    const run = await runKiln([...args]);
    assert.equal(run.code, 2, run.stderr);
    assert.match(run.stderr, says);
    assert.doesNotMatch(run.stderr, /\n\s+at /);
  }
});

test('a builder key or HCL2 block named like an Object method ("valueOf", "constructor") is an unknown key, not a crash', async () => {
  // json-template, seed 3: {"builders":[{…, "valueOf": "pre-{{user }}-post"}], "sensitive-variables": […]}
  // took Object.prototype.valueOf as the hint of an unsupported key, and the redaction of the
  // message threw a TypeError.
  const json = await validate('t.json', JSON.stringify({ variables: { v1: 's3cret' }, 'sensitive-variables': ['v1'], builders: [{ type: 'scaleway', ...base, valueOf: 'pre-{{user `v1`}}-post', constructor: 'x' }] }));
  assert.equal(json.code, 2, json.said);
  assert.match(json.said, /builders\[0\]\.valueOf: unknown key "valueOf"/);
  assert.match(json.said, /builders\[0\]\.constructor: unknown key "constructor"/);
  const hcl = await validate('t.pkr.hcl', 'constructor {\n}\n');
  assert.equal(hcl.code, 2, hcl.said);
  assert.match(hcl.said, /t\.pkr\.hcl:1:1: Unsupported block type/);
  assert.doesNotMatch(json.said + hcl.said, /TypeError|function|\n\s+at /);
});

test('lookup() reads own keys only and takes three arguments, as in Packer 1.6.6', async () => {
  const hcl = await validate('t.pkr.hcl', 'locals {\n  a = lookup({}, "constructor", "fallback")\n  b = lookup({ a = 1 }, "a")\n}\n');
  assert.equal(hcl.code, 2, hcl.said);
  assert.match(hcl.said, /t\.pkr\.hcl:3:7: Not enough function arguments: Function "lookup" expects 3 argument\(s\)\. Missing value for "default"/);
  assert.doesNotMatch(hcl.said, /t\.pkr\.hcl:2/, 'lookup({}, "constructor", "fallback") is "fallback"');
});

test('a \\u escape with no UTF-8 form ("\\ud800", "\\UFFFFFFFF") is an invalid escape sequence, as in Packer', async () => {
  // hcl-evaluator, seed 4: default = [urlencode("\ud800")] threw URIError; "\UFFFFFFFF" a RangeError.
  for (const [escape, code] of [['\\ud800', 'd800'], ['\\UFFFFFFFF', 'ffffffff']] as const) {
    const hcl = await validate('t.pkr.hcl', `locals {\n  a = urlencode("x${escape}")\n}\n`);
    assert.equal(hcl.code, 2, hcl.said);
    assert.match(hcl.said, new RegExp(`t\\.pkr\\.hcl:2:19: Invalid escape sequence: Cannot encode character U\\+${code} in UTF-8\\.`));
  }
});

test('urlencode() of a lone surrogate from a JSON file encodes U+FFFD, as Go does, instead of throwing', async () => {
  const json = await validate('t.pkr.json', '{"variable": {"v": {"default": "a\\ud800"}}, "locals": {"x": "${urlencode(var.v)}"}}');
  assert.equal(json.code, 2, json.said);
  assert.match(json.said, /No build block/);
  assert.doesNotMatch(json.said, /URIError|\n\s+at /);
});
