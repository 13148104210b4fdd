// HCL2 templates load into the same BuildSpecs as JSON ones: files and directories, variables
// with Packer's precedence, locals, builds and provisioner order, and errors at file:line:col.
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { join } from 'node:path';
import { loadTemplate, TemplateError, formatProblems, type LoadTemplateOptions, type TemplateProblem } from '../../../src/template/index.js';
import { runValidate } from '../../../src/template/validate.js';
import { cleanEnv, tempDir, writeFiles, SECRET, PROJECT } from '../helpers.js';

const SOURCE = `source "scaleway" "base" {
  access_key      = "SCWABCDEFGHIJKLMNOPQ"
  secret_key      = var.secret_key
  project_id      = "${PROJECT}"
  zone            = var.zone
  image           = "ubuntu_jammy"
  commercial_type = "DEV1-S"
}
`;
const VARIABLES = `variable "zone" {
  type    = string
  default = "fr-par-1"
}
variable "secret_key" {
  type      = string
  default   = "${SECRET}"
  sensitive = true
}
`;
const BUILD = `build {
  sources = ["source.scaleway.base"]
  provisioner "shell" { inline = ["echo one"] }
}
`;

function dir(files: Record<string, string>): string {
  const path = tempDir();
  writeFiles(path, { 'motd': 'hello\n', ...files });
  return path;
}

async function load(path: string, options: LoadTemplateOptions = {}) {
  return loadTemplate(path, { env: cleanEnv(path.endsWith('.hcl') ? join(path, '..') : path), ...options });
}

async function problems(path: string, options: LoadTemplateOptions = {}): Promise<TemplateProblem[]> {
  try {
    await load(path, options);
  } catch (error) {
    if (error instanceof TemplateError) return error.problems;
    throw error;
  }
  return assert.fail('expected the template to be rejected');
}

describe('HCL2 templates', () => {
  it('load a directory: variables.pkr.hcl, sources and builds in separate files, auto var files', async () => {
    const path = dir({ 'variables.pkr.hcl': VARIABLES, 'sources.pkr.hcl': SOURCE, 'build.pkr.hcl': BUILD, 'prod.auto.pkrvars.hcl': 'zone = "nl-ams-1"\n', 'notes.txt': 'not read' });
    const loaded = await load(path);
    assert.equal(loaded.builds.length, 1);
    assert.equal(loaded.builds[0]!.name, 'scaleway.base');
    assert.equal(loaded.builds[0]!.zone, 'nl-ams-1');
    assert.equal(loaded.builds[0]!.secretKey, SECRET);
    assert.ok(loaded.sensitiveValues.includes(SECRET));
  });

  it('apply Packer\'s precedence: default < PKR_VAR_ < auto var files < -var-file < -var', async () => {
    const path = dir({ 'build.pkr.hcl': VARIABLES + SOURCE + BUILD, 'a.auto.pkrvars.hcl': 'zone = "nl-ams-1"\n', 'b.auto.pkrvars.hcl': 'zone = "nl-ams-2"\n', 'cli.pkrvars.hcl': 'zone = "fr-par-2"\n' });
    const zone = async (options: LoadTemplateOptions, env: Record<string, string> = {}) => (await load(path, { env: cleanEnv(path, env), ...options })).builds[0]!.zone;
    assert.equal(await zone({}), 'nl-ams-2', 'auto var files apply in lexical order');
    assert.equal(await zone({}, { PKR_VAR_zone: 'pl-waw-1' }), 'nl-ams-2', 'an auto var file beats PKR_VAR_');
    assert.equal(await zone({ varFiles: [join(path, 'cli.pkrvars.hcl')] }), 'fr-par-2');
    assert.equal(await zone({ varFiles: [join(path, 'cli.pkrvars.hcl')], vars: { zone: 'fr-par-3' } }), 'fr-par-3', '-var beats every var file');
    const single = dir({ 'build.pkr.hcl': VARIABLES + SOURCE + BUILD });
    assert.equal((await load(join(single, 'build.pkr.hcl'), { env: cleanEnv(single, { PKR_VAR_zone: 'pl-waw-1' }) })).builds[0]!.zone, 'pl-waw-1');
  });

  it('convert values as Packer does and evaluate locals in dependency order', async () => {
    const path = dir({
      'build.pkr.hcl': `${VARIABLES}
variable "size" {
  type    = number
  default = "2"
}
locals {
  name  = "img-\${local.stem}-\${var.size * 2}"
  stem  = upper(var.zone)
  flags = { remove = "false" }
}
${SOURCE.replace('}\n', '  image_name = local.name\n  remove_volume = local.flags.remove\n  snapshot_name = "snap-{{timestamp}}"\n}\n')}${BUILD}`,
    });
    const [build] = (await load(path, { evaluation: { initTime: '2026-01-02T03:04:05Z', uuid: 'u' } })).builds;
    assert.equal(build!.imageName, 'img-FR-PAR-1-4');
    assert.equal(build!.removeVolume, false);
    assert.equal(build!.snapshotName, `snap-${Date.parse('2026-01-02T03:04:05Z') / 1000}`, 'Go template actions still work inside HCL strings');
  });

  it('keep provisioner order (shell, file, shell) and build two builds, with nested source overrides and only/except', async () => {
    const path = dir({
      'build.pkr.hcl': `${VARIABLES}${SOURCE}
build {
  name = "web"
  source "source.scaleway.base" {
    name            = "small"
  }
  source "source.scaleway.base" {
    name            = "big"
    commercial_type = "GP1-S"
  }
  provisioner "shell" { inline = ["echo \${source.name}"] }
  provisioner "file" {
    source      = "motd"
    destination = "/etc/motd"
    only        = ["scaleway.big"]
  }
  provisioner "shell" { inline = ["three"] }
}
${BUILD}`,
    });
    const loaded = await load(path);
    assert.deepEqual(loaded.builds.map((b) => [b.name, b.commercialType]), [['web.scaleway.small', 'DEV1-S'], ['web.scaleway.big', 'GP1-S'], ['scaleway.base', 'DEV1-S']]);
    const big = loaded.builds[1]!;
    assert.deepEqual(big.provisioners.map((p) => p.type), ['shell', 'file', 'shell']);
    assert.deepEqual(big.provisioners[0]!.type === 'shell' && big.provisioners[0]!.inline, ['echo big']);
    assert.deepEqual(loaded.builds[0]!.provisioners.map((p) => p.type), ['shell', 'shell']);
  });

  it('read .pkr.json (HCL\'s JSON syntax) with provisioners in order', async () => {
    const path = dir({
      'build.pkr.json': JSON.stringify({
        variable: { zone: { default: 'nl-ams-1' }, secret_key: { default: SECRET, sensitive: true } },
        source: { scaleway: { base: { access_key: 'SCWABCDEFGHIJKLMNOPQ', secret_key: '${var.secret_key}', project_id: PROJECT, zone: '${var.zone}', image: 'ubuntu_jammy', commercial_type: 'DEV1-S' } } },
        build: { sources: ['source.scaleway.base'], provisioner: [{ shell: { inline: ['one'] } }, { file: { source: 'motd', destination: '/etc/motd' } }, { shell: { inline: ['three'] } }] },
      }),
    });
    const [build] = (await load(path)).builds;
    assert.equal(build!.zone, 'nl-ams-1');
    assert.deepEqual(build!.provisioners.map((p) => p.type), ['shell', 'file', 'shell']);
  });

  it('report each problem at file:line:col with the line, a caret and a hint; validate exits 2', async () => {
    const path = dir({
      'build.pkr.hcl': `${VARIABLES}${SOURCE.replace('image           = "ubuntu_jammy"', 'image           = upperr("ubuntu_jammy")').replace('commercial_type', 'comercial_type')}${BUILD}
data "amazon-ami" "x" {
}
`,
    });
    const found = await problems(path);
    const at = found.map((p) => `${p.location?.line}:${p.location?.column}`);
    assert.ok(at.includes('15:21'), `unknown function at its name: ${at}`);
    assert.ok(at.includes('23:1'), `data block refused: ${at}`);
    const fn = found.find((p) => p.location?.line === 15)!;
    assert.match(fn.message, /There is no function named "upperr"/);
    assert.equal(fn.hint, 'did you mean "upper"?');
    const text = formatProblems([fn]);
    assert.match(text, /build\.pkr\.hcl:15:21: Call to unknown function/);
    assert.match(text, /15 \|   image {11}= upperr\("ubuntu_jammy"\)\n {9}\| {21}\^/);
    const output: string[] = [];
    assert.equal(await runValidate({ template: path }, { stdout: (t) => output.push(t), stderr: (t) => output.push(t) }), 2);
    assert.match(output.join(''), /did you mean "comercial_type"|did you mean "commercial_type"/);
  });

  it('refuse what kiln does not build: other source types, unknown provisioners, post-processors', async () => {
    const path = dir({ 'build.pkr.hcl': `${VARIABLES}${SOURCE}source "amazon-ebs" "x" {\n}\nbuild {\n  sources = ["source.scaleway.base"]\n  provisioner "puppet-masterless" {\n  }\n}\n` });
    const found = await problems(path);
    assert.ok(found.some((p) => /"amazon-ebs" is not supported/.test(p.message) && p.location?.line === 18), JSON.stringify(found));
    assert.ok(found.some((p) => /puppet-masterless/.test(p.message) && p.location?.line === 22), JSON.stringify(found));
  });

  it('never show a sensitive value in a problem', async () => {
    const path = dir({ 'build.pkr.hcl': `${VARIABLES}${SOURCE.replace('zone            = var.zone', 'zone = "\${var.secret_key}"')}${BUILD}` });
    const found = await problems(path);
    assert.ok(found.length > 0);
    assert.ok(!JSON.stringify(found).includes(SECRET));
    // Nor in the quoted line of the template, when the value is written there.
    const literal = dir({ 'build.pkr.hcl': `${VARIABLES}${SOURCE.replace('secret_key      = var.secret_key', `secret_key = "${SECRET}-\${var.nope}"`)}${BUILD}` });
    const quoted = await problems(literal);
    assert.ok(quoted.some((p) => p.location?.lineText.includes('<sensitive>')), JSON.stringify(quoted));
    assert.ok(!JSON.stringify(quoted).includes(SECRET) && !formatProblems(quoted).includes(SECRET));
  });

  it('check variables: validation blocks with Packer\'s message rules, unset and undeclared -var values', async () => {
    const path = dir({
      'build.pkr.hcl': `${VARIABLES.replace('default = "fr-par-1"\n', 'default = "fr-par-1"\n  validation {\n    condition     = can(regex("^[a-z]{2}-[a-z]{3}-[0-9]$", var.zone))\n    error_message = "The zone must look like fr-par-1."\n  }\n')}variable "required" {\n  type = string\n}\n${SOURCE}${BUILD}`,
    });
    const unset = await problems(path);
    assert.ok(unset.some((p) => /Unset variable "required"/.test(p.message)), JSON.stringify(unset));
    const invalid = await problems(path, { vars: { zone: 'paris', required: 'x' } });
    assert.ok(invalid.some((p) => p.message.includes('The zone must look like fr-par-1.')), JSON.stringify(invalid));
    const undeclared = await problems(path, { vars: { required: 'x', zon: 'fr-par-1' } });
    assert.ok(undeclared.some((p) => /Undefined -var variable/.test(p.message) && p.hint === 'did you mean "zone"?'), JSON.stringify(undeclared));
  });

  it('pin timestamp() and uuidv4() to the evaluation (resume), and hash every file read', async () => {
    const path = dir({ 'build.pkr.hcl': `${VARIABLES}${SOURCE.replace('}\n', '  image_name = "img-\${formatdate("YYYYMMDDhhmmss", timestamp())}-\${uuidv4()}"\n}\n')}${BUILD}`, 'x.auto.pkrvars.hcl': 'zone = "nl-ams-1"\n' });
    const first = await load(path);
    const again = await load(path, { evaluation: first.evaluation });
    assert.equal(again.builds[0]!.imageName, first.builds[0]!.imageName);
    assert.equal(again.templateHash, first.templateHash);
    writeFiles(path, { 'x.auto.pkrvars.hcl': 'zone = "nl-ams-2"\n' });
    assert.notEqual((await load(path, { evaluation: first.evaluation })).templateHash, first.templateHash);
  });
});

describe('build values', () => {
  it('are placeholders in provisioners, filled in when the server is up, and refused elsewhere', async () => {
    const path = dir({ 'build.pkr.hcl': `${VARIABLES}${SOURCE}build {\n  sources = ["source.scaleway.base"]\n  provisioner "shell" {\n    inline = ["echo \${build.ID} \${build.name}"]\n  }\n}\n` });
    const [build] = (await load(path)).builds;
    assert.deepEqual(build!.provisioners[0]!.type === 'shell' && build!.provisioners[0]!.inline, ['echo {{build `ID`}} base']);
    const { fillBuildValues } = await import('../../../src/template/functions.js');
    assert.deepEqual(fillBuildValues(['echo {{build `ID`}} base'], { ID: 'srv-1', Host: '', Port: '', User: '', SSHPublicKey: '', PackerRunUUID: '', ConnType: 'ssh' }), ['echo srv-1 base']);
    const inSource = dir({ 'build.pkr.hcl': `${VARIABLES}${SOURCE.replace('image           = "ubuntu_jammy"', 'image = "img-\${build.ID}"')}${BUILD}` });
    const found = await problems(inSource);
    assert.ok(found.some((p) => /attribute named "ID"/.test(p.message)), JSON.stringify(found));
  });
});

describe('post-processors in HCL2', () => {
  it('lower manifest and shell-local blocks (also inside post-processors {}) in order, with names, and refuse other types at their line', async () => {
    const path = dir({
      'build.pkr.hcl': `${VARIABLES}${SOURCE}build {
  sources = ["source.scaleway.base"]
  post-processor "manifest" {
    name        = "record"
    output      = "out/m.json"
    strip_path  = true
    custom_data = { team = var.zone }
  }
  post-processors {
    post-processor "shell-local" {
      inline = ["echo done"]
    }
  }
}
`,
    });
    const [build] = (await load(path)).builds;
    assert.deepEqual(build!.postProcessors!.map((p) => [p.type, p.name, p.index]), [['manifest', 'record', 0], ['shell-local', 'shell-local', 1]]);
    const manifest = build!.postProcessors![0]!;
    assert.ok(manifest.type === 'manifest');
    assert.equal(manifest.output, join(path, 'out/m.json'));
    assert.deepEqual(manifest.customData, { team: 'fr-par-1' });
    assert.equal(manifest.stripPath, true);

    const bad = dir({ 'build.pkr.hcl': `${VARIABLES}${SOURCE}build {\n  sources = ["source.scaleway.base"]\n  post-processor "vagrant" {\n  }\n}\n` });
    const found = await problems(bad);
    assert.ok(found.some((p) => /"vagrant" is not supported by kiln/.test(p.message) && p.location?.line === 20 && p.location.column === 18), JSON.stringify(found));
  });
});

describe('HCL2 var files and refusals', () => {
  it('read a .pkrvars.json whose variables are named like blocks; read one error-cleanup-provisioner, refuse a second', async () => {
    const path = dir({ 'build.pkr.hcl': `${VARIABLES}variable "build" {\n  default = "x"\n}\n${SOURCE}${BUILD}`, 'v.pkrvars.json': JSON.stringify({ zone: 'pl-waw-2', build: 'y' }) });
    assert.equal((await load(path, { varFiles: [join(path, 'v.pkrvars.json')] })).builds[0]!.zone, 'pl-waw-2');
    const cleanup = 'error-cleanup-provisioner "shell-local" {\n    inline = ["echo"]\n  }\n';
    const one = dir({ 'build.pkr.hcl': `${VARIABLES}${SOURCE}build {\n  sources = ["source.scaleway.base"]\n  ${cleanup}}\n` });
    assert.deepEqual((await load(one)).builds[0]!.errorCleanupProvisioner, { type: 'shell-local', index: -1, pauseBeforeMs: 0, maxRetries: 0, timeoutMs: 0, inline: ['echo'], scripts: [], environmentVars: [], envVarFormat: "%s='%s' ", executeCommand: ['/bin/sh', '-c', '{{.Vars}} {{.Script}}'], inlineShebang: '/bin/sh -e', validExitCodes: [0] });
    const two = dir({ 'build.pkr.hcl': `${VARIABLES}${SOURCE}build {\n  sources = ["source.scaleway.base"]\n  ${cleanup}  ${cleanup}}\n` });
    const found = await problems(two);
    assert.ok(found.some((p) => p.message.includes('Only one error-cleanup-provisioner is allowed') && p.location?.line === 23), JSON.stringify(found));
  });
});

describe('dynamic blocks', () => {
  it('generate one nested block per element, with the iterator\'s key and value', async () => {
    const path = dir({
      'build.pkr.hcl': `${VARIABLES}variable "data" {\n  default = { a = "x", b = "y" }\n}\n${SOURCE.replace('}\n', '  dynamic "kiln_phase_policy" {\n    for_each = { prepare = 5 }\n    iterator = p\n    content {\n      prepare = { attempts = p.value, initial_backoff = "\${p.key}-ignored" == "x" ? "1s" : "2s" }\n    }\n  }\n}\n')}${BUILD}`,
    });
    const [build] = (await load(path)).builds;
    assert.equal(build!.phasePolicy.prepare?.attempts, 5);
    assert.equal(build!.phasePolicy.prepare?.backoff?.initialMs, 2000);
  });
});

describe('a problem in a provisioner shared by two sources', () => {
  it('is reported once, at its line', async () => {
    const path = dir({ 'build.pkr.hcl': `${VARIABLES}${SOURCE}${SOURCE.replace('"base"', '"other"')}build {\n  sources = ["source.scaleway.base", "source.scaleway.other"]\n  provisioner "shell" {\n    inlin = ["x"]\n  }\n}\n` });
    const all = await problems(path);
    assert.equal(all.length, 2, `the unknown key and the missing command, once each: ${JSON.stringify(all)}`);
    const found = all.filter((p) => p.message.includes('"inlin"'));
    assert.equal(found.length, 1, JSON.stringify(found));
    assert.equal(found[0]!.location?.line, 29);
    assert.equal(found[0]!.hint, 'did you mean "inline"?');
  });
});
