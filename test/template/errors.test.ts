// Every class of template error: reported all together, each with its key path, what is
// wrong and a hint, and never echoing a secret.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { join } from 'node:path';
import { builder, fixture, problemAt, cleanEnv, writeFiles, SECRET } from './helpers.js';
import { loadTemplate, TemplateError } from '../../src/template/index.js';

const builderErrors: Array<{ title: string; overrides: Record<string, unknown>; path: string; message: RegExp; hint?: RegExp }> = [
  { title: 'a misspelt key', overrides: { comercial_type: 'DEV1-S' }, path: 'builders[0].comercial_type', message: /unknown key "comercial_type"/, hint: /^did you mean "commercial_type"\?$/ },
  { title: 'a key far from any known one', overrides: { flux_capacitor: true }, path: 'builders[0].flux_capacitor', message: /unknown key/, hint: /the known keys are .*commercial_type/ },
  { title: 'a Packer key kiln does not support', overrides: { snapshot_type: 'archive' }, path: 'builders[0].snapshot_type', message: /"snapshot_type" is a Packer option that kiln does not support/, hint: /default snapshot type/ },
  { title: 'a bad boottype', overrides: { boottype: 'network' }, path: 'builders[0].boottype', message: /"network" is not one of "local", "bootscript", "rescue"/, hint: /use one of local, bootscript, rescue/ },
  { title: 'a placeholder image', overrides: { image: 'UUID OF THE BASE IMAGE' }, path: 'builders[0].image', message: /"UUID OF THE BASE IMAGE" is neither an image UUID nor a marketplace label/, hint: /ubuntu_jammy/ },
  { title: 'no image', overrides: { image: undefined }, path: 'builders[0].image', message: /source image is required/ },
  { title: 'no commercial type', overrides: { commercial_type: undefined }, path: 'builders[0].commercial_type', message: /commercial type is required/, hint: /DEV1-S/ },
  { title: 'a malformed commercial type', overrides: { commercial_type: 'DEV1 S' }, path: 'builders[0].commercial_type', message: /"DEV1 S" is not a commercial type/ },
  { title: 'an unknown zone', overrides: { zone: 'fr-par-9' }, path: 'builders[0].zone', message: /"fr-par-9" is not a Scaleway zone/, hint: /zones are fr-par-1, fr-par-2, fr-par-3, nl-ams-1/ },
  { title: 'an unknown region', overrides: { zone: undefined, region: 'par2' }, path: 'builders[0].region', message: /"par2" is not a region/, hint: /par1/ },
  { title: 'a project ID that is not a UUID', overrides: { project_id: 'my-project' }, path: 'builders[0].project_id', message: /"my-project" is not a project ID \(a UUID\)/ },
  { title: 'a bad api_url', overrides: { api_url: 'ftp://example.com' }, path: 'builders[0].api_url', message: /not an http\(s\) URL/, hint: /https:\/\/api.scaleway.com/ },
  { title: 'a bootscript that is not a UUID', overrides: { bootscript: 'latest' }, path: 'builders[0].bootscript', message: /not a bootscript ID/ },
  { title: 'a port out of range', overrides: { ssh_port: 70000 }, path: 'builders[0].ssh_port', message: /must be at most 65535, not 70000/ },
  { title: 'a duration written as a number', overrides: { ssh_timeout: 300 }, path: 'builders[0].ssh_timeout', message: /must be a duration string, not a number/, hint: /"300s"/ },
  { title: 'a negative timeout', overrides: { state_timeout: '-5m' }, path: 'builders[0].state_timeout', message: /must not be negative/ },
  { title: 'a boolean that is not one', overrides: { remove_volume: 'maybe' }, path: 'builders[0].remove_volume', message: /must be true or false, not "maybe"/ },
  { title: 'tags that are not strings', overrides: { tags: [1, { a: 1 }] }, path: 'builders[0].tags[1]', message: /must be a string, not an object/ },
  { title: "a tag reserved for kiln's bookkeeping", overrides: { tags: ['kiln-build=123'] }, path: 'builders[0].tags[0]', message: /reserved for kiln's own bookkeeping/ },
  { title: 'user_data that is not an object', overrides: { user_data: 'echo hi' }, path: 'builders[0].user_data', message: /must be an object of strings/ },
  { title: 'the winrm communicator', overrides: { communicator: 'winrm' }, path: 'builders[0].communicator', message: /winrm communicator is not supported/ },
  { title: 'a misspelt phase in kiln_phase_policy', overrides: { kiln_phase_policy: { 'server.craete': { attempts: 2 } } }, path: 'builders[0].kiln_phase_policy.server.craete', message: /"server.craete" is not a phase/, hint: /did you mean "server.create"\?/ },
  { title: 'a misspelt policy key', overrides: { kiln_phase_policy: { 'ssh.connect': { attempt: 2 } } }, path: 'builders[0].kiln_phase_policy["ssh.connect"].attempt', message: /unknown key "attempt"/, hint: /did you mean "attempts"\?/ },
  { title: 'zero attempts', overrides: { kiln_phase_policy: { prepare: { attempts: 0 } } }, path: 'builders[0].kiln_phase_policy["prepare"].attempts', message: /must be at least 1/ },
  { title: 'max_backoff below initial_backoff', overrides: { kiln_phase_policy: { prepare: { initial_backoff: '10s', max_backoff: '1s' } } }, path: 'builders[0].kiln_phase_policy["prepare"].max_backoff', message: /must not be shorter than initial_backoff/ },
  { title: 'a policy entry that is not an object', overrides: { kiln_phase_policy: { prepare: 3 } }, path: 'builders[0].kiln_phase_policy.prepare', message: /must be an object/ },
  { title: 'an unsupported builder type', overrides: { type: 'amazon-ebs' }, path: 'builders[0].type', message: /the builder type "amazon-ebs" is not supported by kiln/, hint: /scaleway/ },
  { title: 'a misspelt builder type', overrides: { type: 'scalway' }, path: 'builders[0].type', message: /"scalway" is not supported/, hint: /did you mean "scaleway"\?/ },
  { title: 'no builder type', overrides: { type: undefined }, path: 'builders[0].type', message: /a builder needs a type/ },
];

for (const { title, overrides, path, message, hint } of builderErrors) {
  test(`builder error: ${title}`, async () => {
    const problem = problemAt(await fixture({ builders: [builder(overrides)] }).problems(), path);
    assert.match(problem.message, message);
    if (hint) assert.match(problem.hint ?? '', hint);
  });
}

const templateErrors: Array<{ title: string; template: unknown; path: string; message: RegExp; hint?: RegExp }> = [
  { title: 'no builders', template: { variables: {} }, path: 'builders', message: /the template has no builders/, hint: /examples\/basic.json/ },
  { title: 'an empty builder list', template: { builders: [] }, path: 'builders', message: /the list of builders is empty/ },
  { title: 'builders not a list', template: { builders: builder() }, path: 'builders', message: /must be a list of builders, not an object/ },
  { title: 'a duplicate builder name', template: { builders: [builder({ name: 'x' }), builder({ name: 'x' })] }, path: 'builders[1].name', message: /"x" is already used by builders\[0\]/, hint: /distinct "name"/ },
  { title: 'two unnamed builders', template: { builders: [builder(), builder()] }, path: 'builders[1].name', message: /"scaleway" is already used by builders\[0\]/ },
  { title: 'a misspelt top-level key', template: { builders: [builder()], provisioner: [] }, path: 'provisioner', message: /unknown top-level key "provisioner"/, hint: /did you mean "provisioners"\?/ },
  { title: 'a post-processor kiln does not run', template: { builders: [builder()], 'post-processors': ['manifest', { type: 'vagrant' }] }, path: 'post-processors[1].type', message: /"vagrant" is not supported by kiln/, hint: /manifest and shell-local/ },
  { title: 'post-processors not a list', template: { builders: [builder()], 'post-processors': { type: 'manifest' } }, path: 'post-processors', message: /must be a list of post-processors/ },
  { title: 'a misspelt manifest key', template: { builders: [builder()], 'post-processors': [{ type: 'manifest', ouput: 'm.json' }] }, path: 'post-processors[0].ouput', message: /unknown key "ouput"/, hint: /did you mean "output"\?/ },
  { title: 'provisioners not a list', template: { builders: [builder()], provisioners: { type: 'shell' } }, path: 'provisioners', message: /must be a list of provisioners/ },
];

for (const { title, template, path, message, hint } of templateErrors) {
  test(`template error: ${title}`, async () => {
    const problem = problemAt(await fixture(template).problems(), path);
    assert.match(problem.message, message);
    if (hint) assert.match(problem.hint ?? '', hint);
  });
}

test('all problems are reported together, in one TemplateError', async () => {
  const problems = await fixture({ builders: [builder({ zone: 'mars-1', boottype: 'x', comercial_type: 'y' })], provisioners: [{ type: 'shell' }] }).problems();
  assert.deepEqual(
    problems.map((p) => p.path).sort(),
    ['builders[0].boottype', 'builders[0].comercial_type', 'builders[0].zone', 'provisioners[0]'],
  );
});

test('TemplateError.message lists each problem with its path and hint', async () => {
  const f = fixture({ builders: [builder({ comercial_type: 'DEV1-S' })] });
  await assert.rejects(f.load(), (error: unknown) => {
    assert.ok(error instanceof TemplateError);
    assert.match(error.message, /1 problem:\n {2}- builders\[0\]\.comercial_type: unknown key "comercial_type" \(did you mean "commercial_type"\?\)/);
    return true;
  });
});

test('a missing template file, a file that is not JSON, a JSON array', async () => {
  await assert.rejects(loadTemplate('/nonexistent/kiln/template.json'), (error: unknown) => {
    assert.ok(error instanceof TemplateError);
    assert.match(error.problems[0]!.message, /the template file does not exist/);
    return true;
  });
  const notJson = fixture(`{\n  "builders": [\n    {"type": "scaleway", "secret_key": "${SECRET}" oops}\n  ]\n}`);
  const [problem] = await notJson.problems();
  assert.equal(problem!.path, notJson.path);
  assert.match(problem!.message, /is not valid JSON: .* at line 3, column \d+/);
  assert.ok(!JSON.stringify(problem).includes(SECRET), 'the JSON error must not quote the file');
  const array = await fixture([builder()]).problems();
  assert.match(array[0]!.message, /a template is a JSON object, not a list/);
});

test('a secret key that is not a UUID is described, never printed', async () => {
  const bad = 'not-my-real-secret-value';
  const problem = problemAt(await fixture({ builders: [builder({ secret_key: bad })] }).problems(), 'builders[0].secret_key');
  assert.match(problem.message, /is not a Scaleway secret key: expected a UUID .* got a 24-character value/);
  assert.ok(!JSON.stringify(problem).includes(bad));
  const swapped = problemAt(await fixture({ builders: [builder({ secret_key: 'SCWABCDEFGHIJKLMNOPQ' })] }).problems(), 'builders[0].secret_key');
  assert.match(swapped.message, /shaped like an access key/);
});

test('a bad secret from the environment is reported at the variable name, not printed', async () => {
  const f = fixture({ builders: [builder({ secret_key: undefined })] });
  const problems = await f.problems({ env: cleanEnv(f.dir, { SCW_SECRET_KEY: 'hunter2hunter2' }) });
  const problem = problemAt(problems, 'SCW_SECRET_KEY');
  assert.match(problem.message, /got a 14-character value/);
  assert.ok(!JSON.stringify(problems).includes('hunter2'));
});

test('missing credentials say where kiln looked: template keys, environment variables, config file and profile', async () => {
  const f = fixture({ builders: [builder({ secret_key: undefined, zone: undefined })] });
  const configPath = join(f.dir, 'scw.yaml');
  writeFiles(f.dir, { 'scw.yaml': 'access_key: SCWABCDEFGHIJKLMNOPQ\n' });
  const problems = await f.problems({ env: cleanEnv(f.dir, { SCW_CONFIG_PATH: configPath }) });
  const secret = problemAt(problems, 'builders[0].secret_key');
  assert.match(secret.message, /no Scaleway secret key is set/);
  assert.match(secret.message, /secret_key, api_token/);
  assert.match(secret.message, /SCW_SECRET_KEY, SCALEWAY_API_TOKEN/);
  assert.ok(secret.message.includes(`${configPath} (secret_key; profile "default")`), secret.message);
  assert.match(secret.hint ?? '', /export SCW_SECRET_KEY/);
  const zone = problemAt(problems, 'builders[0].zone');
  assert.match(zone.message, /no zone is set: .*zone, region.*SCW_DEFAULT_ZONE.*default_zone/);

  const noFile = await f.problems({ env: cleanEnv(f.dir) });
  assert.match(problemAt(noFile, 'builders[0].secret_key').message, /home\/\.config\/scw\/config\.yaml \(secret_key; not found\)/);
});

test('a Scaleway config file that is not YAML: its position, not its content', async () => {
  const f = fixture({ builders: [builder()] });
  writeFiles(f.dir, { 'scw.yaml': `secret_key: ${SECRET}\naccess_key: a: b\n` });
  const problems = await f.problems({ env: cleanEnv(f.dir, { SCW_CONFIG_PATH: join(f.dir, 'scw.yaml') }) });
  const problem = problemAt(problems, join(f.dir, 'scw.yaml'));
  assert.match(problem.message, /not valid YAML at line 2, column \d+/);
  assert.ok(!JSON.stringify(problems).includes(SECRET));
});

test('SCW_PROFILE naming a profile the config file lacks lists the profiles it has', async () => {
  const f = fixture({ builders: [builder()] });
  writeFiles(f.dir, { 'scw.yaml': 'profiles:\n  dev: {}\n  prod: {}\n' });
  const problems = await f.problems({ env: cleanEnv(f.dir, { SCW_CONFIG_PATH: join(f.dir, 'scw.yaml'), SCW_PROFILE: 'staging' }) });
  const problem = problemAt(problems, 'SCW_PROFILE');
  assert.match(problem.message, /the profile "staging" is not in the Scaleway config file/);
  assert.equal(problem.hint, 'its profiles are dev, prod');
});

test('a sensitive value quoted by another error is hidden', async () => {
  const f = fixture({
    variables: { boot: 'hush-hush-value' },
    'sensitive-variables': ['boot'],
    builders: [builder({ boottype: '{{user `boot`}}' })],
  });
  const problems = await f.problems();
  const problem = problemAt(problems, 'builders[0].boottype');
  assert.match(problem.message, /"<sensitive>" is not one of/);
  assert.ok(!JSON.stringify(problems).includes('hush-hush-value'));
});

test('a bad value from the environment or the config file is reported where it came from', async () => {
  const f = fixture({ builders: [builder({ zone: undefined, api_url: undefined })] });
  const configPath = join(f.dir, 'scw.yaml');
  writeFiles(f.dir, { 'scw.yaml': 'default_zone: mars-1\n' });
  const fromFile = await f.problems({ env: cleanEnv(f.dir, { SCW_CONFIG_PATH: configPath, SCW_API_URL: 'not a url' }) });
  assert.match(problemAt(fromFile, `${configPath} (profile default): default_zone`).message, /"mars-1" is not a Scaleway zone/);
  assert.match(problemAt(fromFile, 'SCW_API_URL').message, /"not a url" is not an http\(s\) URL/);
  const fromEnv = await f.problems({ env: cleanEnv(f.dir, { SCW_CONFIG_PATH: configPath, SCW_DEFAULT_ZONE: 'venus-2' }) });
  assert.match(problemAt(fromEnv, 'SCW_DEFAULT_ZONE').message, /"venus-2" is not a Scaleway zone/);
});
