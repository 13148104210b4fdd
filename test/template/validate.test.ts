// `kiln validate` as a user runs it: exit codes, output, --json, --var/--var-file, no secrets.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { runKiln } from '../helpers/cli.js';
import { builder, fixture, writeFiles, cleanEnv, SECRET } from './helpers.js';

// examples/ lives at the repository root, whether this runs from test/ (tsx) or dist/test/.
const examplesDir = fileURLToPath(new URL(import.meta.url.endsWith('.ts') ? '../../examples/' : '../../../examples/', import.meta.url));

function envFor(dir: string, extra: Record<string, string> = {}): NodeJS.ProcessEnv {
  // Keep PATH and the node options tsx needs; nothing of this machine's Scaleway settings.
  return { PATH: process.env.PATH, ...cleanEnv(dir), ...extra };
}

test('kiln validate --print examples/basic.json: valid, redacted, exit 0', { timeout: 60_000 }, async () => {
  const dir = fixture({}).dir;
  const result = await runKiln(['validate', '--print', join(examplesDir, 'basic.json')], { env: envFor(dir, { SCALEWAY_API_TOKEN: SECRET }) });
  assert.equal(result.code, 0, result.stderr);
  assert.match(result.stdout, /is valid: 1 build/);
  assert.match(result.stdout, /zone: fr-par-1/);
  assert.match(result.stdout, /secretKey: <sensitive>/);
  assert.match(result.stdout, /\/etc\/kiln-release/);
  assert.ok(result.stdout.includes(join(examplesDir, 'files/motd')), 'the file provisioner source resolves against the example directory');
  assert.ok(!result.stdout.includes(SECRET) && !result.stderr.includes(SECRET));
  assert.match(result.stderr, /warning: builders\[0\]\.api_token is deprecated: use "secret_key" instead/);
});

test('kiln validate --print examples/basic.pkr.hcl prints the same configuration as basic.json; without --print only the verdict', { timeout: 60_000 }, async () => {
  const dir = fixture({}).dir;
  const env = envFor(dir, { SCALEWAY_API_TOKEN: SECRET });
  const hcl = await runKiln(['validate', '--print', join(examplesDir, 'basic.pkr.hcl')], { env });
  const json = await runKiln(['validate', '--print', join(examplesDir, 'basic.json')], { env });
  assert.equal(hcl.code, 0, hcl.stderr);
  const body = (text: string) => text.split('\n').slice(1).join('\n').replace(/^ {2}(name|serverName|imageName|snapshotName): .*$/gm, '').replace(/built by kiln from \S+/, '').replace(/build "[^"]+"/, 'build');
  assert.equal(body(hcl.stdout), body(json.stdout));
  assert.ok(!hcl.stdout.includes(SECRET) && !hcl.stderr.includes(SECRET));
  const quiet = await runKiln(['validate', join(examplesDir, 'basic.pkr.hcl')], { env });
  assert.equal(quiet.code, 0);
  assert.equal(quiet.stdout, `${join(examplesDir, 'basic.pkr.hcl')} is valid: 1 build (scaleway.basic; --print shows their configuration)\n`);
});

test('kiln validate examples/pro2-sbs.json: the SBS root and the block volume as the build will use them', { timeout: 60_000 }, async () => {
  const dir = fixture({}).dir;
  const result = await runKiln(['validate', join(examplesDir, 'pro2-sbs.json'), '--json'], { env: envFor(dir, { SCW_SECRET_KEY: SECRET }) });
  assert.equal(result.code, 0, result.stderr);
  const build = JSON.parse(result.stdout).builds[0];
  assert.deepEqual(build.rootVolume, { type: 'sbs_volume', sizeGb: 20, iops: 15000 });
  assert.equal(build.blockVolumes.length, 1);
  assert.equal(build.blockVolumes[0].name, 'pro2-sbs-data');
  assert.equal(build.blockVolumes[0].sizeGb, 10);
  assert.match(build.snapshotName, /^pro2-sbs-root-\d+$/);
  assert.match(build.blockVolumes[0].snapshotName, /^pro2-sbs-data-\d+$/);
});

test('kiln validate --json with --var and --var-file: the effective configuration, no secret', { timeout: 60_000 }, async () => {
  const f = fixture({
    variables: { secret: null, zone: 'fr-par-1', name: 'x' },
    'sensitive-variables': ['secret'],
    builders: [builder({ secret_key: '{{user `secret`}}', zone: '{{user `zone`}}', image_name: '{{user `name`}}', ssh_password: 'pa55word' })],
  });
  writeFiles(f.dir, { 'vars.json': { zone: 'nl-ams-1' } });
  // Flags before the template path too: each --var takes exactly one value.
  const result = await runKiln(['validate', '--var', `secret=${SECRET}`, '--var-file', join(f.dir, 'vars.json'), f.path, '--json', '--var', 'name=from-cli'], { env: envFor(f.dir) });
  assert.equal(result.code, 0, result.stderr);
  const output = JSON.parse(result.stdout);
  assert.equal(output.valid, true);
  assert.match(output.templateHash, /^[0-9a-f]{64}$/);
  assert.equal(output.builds[0].zone, 'nl-ams-1');
  assert.equal(output.builds[0].imageName, 'from-cli');
  assert.equal(output.builds[0].secretKey, '<sensitive>');
  assert.equal(output.builds[0].communicator.password, '<sensitive>');
  assert.ok(!result.stdout.includes(SECRET) && !result.stdout.includes('pa55word'));
});

test('kiln validate of a bad template: every problem, exit 2 (text on stderr, JSON on stdout)', { timeout: 60_000 }, async () => {
  const f = fixture({ builders: [builder({ comercial_type: 'DEV1-S', zone: 'fr-par-9', secret_key: 'plainly-not-a-uuid' })] });
  const text = await runKiln(['validate', f.path], { env: envFor(f.dir) });
  assert.equal(text.code, 2);
  assert.match(text.stderr, /builders\[0\]\.comercial_type: unknown key "comercial_type" \(did you mean "commercial_type"\?\)/);
  assert.match(text.stderr, /builders\[0\]\.zone: "fr-par-9" is not a Scaleway zone/);
  assert.equal(text.stdout, '');

  const json = await runKiln(['validate', f.path, '--json'], { env: envFor(f.dir) });
  assert.equal(json.code, 2);
  const output = JSON.parse(json.stdout);
  assert.equal(output.valid, false);
  assert.deepEqual(output.errors.map((e: { path: string }) => e.path).sort(), ['builders[0].comercial_type', 'builders[0].secret_key', 'builders[0].zone']);
  for (const error of output.errors) assert.equal(typeof error.message, 'string');
  assert.ok(!json.stdout.includes('plainly-not-a-uuid') && !text.stderr.includes('plainly-not-a-uuid'));
});

test('kiln validate: a required variable not given and a malformed --var exit 2', { timeout: 60_000 }, async () => {
  const f = fixture({ variables: { v: null }, builders: [builder()] });
  const missing = await runKiln(['validate', f.path, '--json'], { env: envFor(f.dir) });
  assert.equal(missing.code, 2);
  assert.equal(JSON.parse(missing.stdout).errors[0].path, 'variables.v');
  const malformed = await runKiln(['validate', f.path, '--var', 'v'], { env: envFor(f.dir) });
  assert.equal(malformed.code, 2);
  assert.match(malformed.stderr, /--var: "v" has no value \(write --var name=value\)/);
});

test('kiln validate of a missing file exits 2 and says so', { timeout: 60_000 }, async () => {
  const result = await runKiln(['validate', '/nonexistent/template.json']);
  assert.equal(result.code, 2);
  assert.match(result.stderr, /the template file does not exist/);
});

// A process option that reports, when kiln exits, whether the ssh2 library was loaded.
const reportSsh2 = `--import=data:text/javascript,${encodeURIComponent(
  "import{createRequire}from'node:module';const cache=createRequire(process.cwd()+'/').cache;" +
    "process.on('exit',()=>{if(Object.keys(cache).some((k)=>k.includes('/node_modules/ssh2/')))process.stderr.write('[ssh2 loaded]\\n')})",
)}`;

test('kiln validate loads the SSH library only for a template that names a private key file, and still checks that key', { timeout: 60_000 }, async () => {
  const plain = fixture({ builders: [builder()] });
  const withKey = fixture({ builders: [builder({ ssh_private_key_file: 'id' })] }, { id: 'not a key' });
  const run = (path: string, dir: string) => runKiln(['validate', path], { env: { ...envFor(dir), NODE_OPTIONS: reportSsh2 } });

  const fast = await run(plain.path, plain.dir);
  assert.equal(fast.code, 0, fast.stderr);
  assert.doesNotMatch(fast.stderr, /\[ssh2 loaded\]/);

  const checked = await run(withKey.path, withKey.dir);
  assert.equal(checked.code, 2);
  assert.match(checked.stderr, /builders\[0\]\.ssh_private_key_file.*is not a private key SSH can use/);
  assert.match(checked.stderr, /\[ssh2 loaded\]/, 'the report works: the key check loaded ssh2');
});
