// HCL2 templates built end to end against the simulator: the Scaleway plugin's own example,
// a directory with auto var files and two builds whose provisioners run in file order, and a
// crashed build whose resume evaluates timestamp()/uuidv4() exactly as the build did.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { derivedUuid } from '../../src/template/hcl/functions.js';
import { runKiln, type KilnResult } from '../helpers/cli.js';
import { simulatedCloudForFile } from '../helpers/sim.js';

const SECRET = '7c0ffee0-1234-4abc-8def-0123456789ab';
const PROJECT = '9a8b7c6d-5e4f-4a3b-8c2d-1e0f9a8b7c6d';

const cloud = simulatedCloudForFile('kiln-hcl2-build-', { secretKey: SECRET, projectId: PROJECT });

function kiln(args: string[], db: string, env: Record<string, string> = {}): Promise<KilnResult> {
  return runKiln([...args, '--db', db], { env: { PATH: process.env.PATH, HOME: cloud.dir, SCW_API_URL: cloud.sim.apiUrl, SCW_SECRET_KEY: SECRET, SCW_DEFAULT_PROJECT_ID: PROJECT, ...env } });
}

/** A scaleway source block for the simulator; `extra` lines go inside it. */
function simSource(name: string, extra: string): string {
  return `source "scaleway" "${name}" {
  image           = "ubuntu_jammy"
  zone            = "fr-par-1"
  commercial_type = "DEV1-S"
  ssh_username    = "root"
  ssh_port        = ${cloud.sim.sshPort}
${extra}}
`;
}

function templateDir(name: string, files: Record<string, string>): string {
  const path = join(cloud.dir, name);
  mkdirSync(path);
  for (const [file, text] of Object.entries(files)) writeFileSync(join(path, file), text);
  return path;
}

interface Event {
  buildId: string;
  type: string;
  data: Record<string, unknown>;
}

function events(r: KilnResult): Event[] {
  return r.stdout
    .split('\n')
    .filter((line) => line.startsWith('{'))
    .map((line) => JSON.parse(line) as Event);
}

test('the Scaleway plugin\'s example/build_scaleway.pkr.hcl, with the simulator\'s project and keys', { timeout: 120_000 }, async () => {
  // The plugin's example as published, its placeholders filled in, ssh_port pointed at the simulator.
  const path = templateDir('plugin-example', {
    'build_scaleway.pkr.hcl': `packer {
  required_plugins {
    scaleway = {
      version = ">= 1.0.5"
      source  = "github.com/scaleway/scaleway"
    }
  }
}

source "scaleway" "basic" {
  project_id = "${PROJECT}"
  access_key = "SCWABCDEFGHIJKLMNOPQ"
  secret_key = "${SECRET}"
  commercial_type = "DEV1-S"
  image = "ubuntu_focal"
  image_name = "basic build"
  ssh_username = "root"
  zone = "fr-par-1"
  ssh_port = ${cloud.sim.sshPort}
}

build {
  sources = ["source.scaleway.basic"]
}
`,
  });
  const r = await kiln(['build', '--json', join(path, 'build_scaleway.pkr.hcl')], join(cloud.dir, 'plugin.db'));
  assert.equal(r.code, 0, r.stderr);
  const images = await cloud.client.listImages({ tags: [`kiln-build=${events(r)[0]!.buildId}`] });
  assert.deepEqual(images.map((i) => i.name), ['basic build']);
});

test('a directory with auto var files and two builds: each build\'s provisioners run in file order', { timeout: 180_000 }, async () => {
  const path = templateDir('two-builds', {
    'variables.pkr.hcl': 'variable "flavor" {\n  type    = string\n  default = "dev"\n}\nvariable "sizes" {\n  type = map(string)\n}\n',
    'prod.auto.pkrvars.hcl': 'flavor = "prod"\nsizes = {\n  web = "DEV1-S"\n  db  = "DEV1-M"\n}\n',
    // The commercial type, set by simSource, is overridden from the auto var file's map.
    'sources.pkr.hcl': ['web', 'db'].map((name) => simSource(name, '  image_name = "${var.flavor}-${source.name}"\n').replace('"DEV1-S"', 'var.sizes[source.name]')).join(''),
    'build.pkr.hcl': `build {
  sources = ["source.scaleway.web"]
  provisioner "shell" {
    inline = ["echo one >> /root/order"]
  }
  provisioner "file" {
    source      = "motd"
    destination = "/root/motd"
  }
  provisioner "shell" {
    inline = ["echo three >> /root/order", "cat /root/motd >> /root/order", "cat /root/order"]
  }
}
build {
  sources = ["source.scaleway.db"]
  provisioner "shell" {
    inline = ["echo db-only"]
  }
}
`,
    motd: 'two\n',
  });
  const r = await kiln(['build', '--json', path], join(cloud.dir, 'two.db'));
  assert.equal(r.code, 0, r.stderr);
  const all = events(r);
  const ids = [...new Set(all.map((e) => e.buildId))];
  assert.equal(ids.length, 2, 'two builds');
  const webId = all.find((e) => e.type === 'build.started' && e.data.builderName === 'scaleway.web')!.buildId;
  const web = all.filter((e) => e.type === 'provisioner.started' && e.buildId === webId);
  assert.deepEqual(web.map((e) => e.data.type), ['shell', 'file', 'shell']);
  assert.match(r.stdout, /one[^]*two[^]*three|"line":"one"[^]*"line":"three"[^]*"line":"two"/);
  const names = (await cloud.client.listImages({ tags: ['kiln'] })).map((i) => i.name);
  assert.ok(names.includes('prod-web') && names.includes('prod-db'), names.join(', '));
});

test('resume of a crashed HCL2 build: timestamp() and uuidv4() give the names the build started with; a changed var file is refused', { timeout: 180_000 }, async () => {
  const path = templateDir('resume', {
    'build.pkr.hcl': `locals {
  stamp = formatdate("YYYYMMDDhhmmss", timestamp())
}
${simSource('r', '  image_name    = "img-${local.stamp}-${uuidv4()}"\n  snapshot_name = "snap-${var.suffix}"\n')}variable "suffix" {
  type = string
}
build {
  sources = ["source.scaleway.r"]
  provisioner "shell" {
    inline = ["echo provisioned"]
  }
}
`,
    'x.auto.pkrvars.hcl': 'suffix = "a"\n',
  });
  const db = join(cloud.dir, 'resume.db');
  const crashed = await kiln(['build', '--json', path], db, { KILN_CRASH_AT: 'provisioner.started:1' });
  assert.equal(crashed.signal, 'SIGKILL', crashed.stderr);
  const started = events(crashed).find((e) => e.type === 'build.started')!;
  // The name the build started with: its recorded instant and the first UUID derived from its seed.
  const evaluation = started.data.evaluation as { initTime: string; uuid: string };
  const stamp = evaluation.initTime.replace(/\.\d+Z$/, '').replace(/[-T:]/g, '');
  const imageName = `img-${stamp}-${derivedUuid(evaluation.uuid, 0)}`;
  // Time passes; the resumed build must still use the name it started with.
  await new Promise((resolve) => setTimeout(resolve, 1100));
  writeFileSync(join(path, 'x.auto.pkrvars.hcl'), 'suffix = "b"\n');
  const refused = await kiln(['resume', started.buildId], db);
  assert.equal(refused.code, 2, refused.stderr);
  assert.match(refused.stderr, /changed since build/);
  writeFileSync(join(path, 'x.auto.pkrvars.hcl'), 'suffix = "a"\n');
  const resumed = await kiln(['resume', started.buildId, '--json'], db);
  assert.equal(resumed.code, 0, resumed.stderr);
  const images = await cloud.client.listImages({ tags: [`kiln-build=${started.buildId}`] });
  assert.deepEqual(images.map((i) => i.name), [imageName]);
});

test('post-processors run once the image exists, for JSON and HCL2 alike: a manifest in Packer\'s format and a shell-local command', { timeout: 180_000 }, async () => {
  const hcl = templateDir('post-processors-hcl', {
    'build.pkr.hcl': `${simSource('pp', '  image_name = "pp-hcl"\n')}build {
  sources = ["source.scaleway.pp"]
  provisioner "shell" {
    inline = ["echo provisioned"]
  }
  post-processor "manifest" {
    output      = "out/manifest.json"
    custom_data = { flavor = "hcl" }
  }
  post-processors {
    post-processor "shell-local" {
      inline = ["echo after > after.txt"]
    }
  }
}
`,
  });
  const json = templateDir('post-processors-json', {
    'template.json': JSON.stringify({
      builders: [{ type: 'scaleway', image: 'ubuntu_jammy', zone: 'fr-par-1', commercial_type: 'DEV1-S', ssh_username: 'root', ssh_port: cloud.sim.sshPort, image_name: 'pp-json' }],
      'post-processors': [{ type: 'manifest', custom_data: { flavor: 'json' } }, [{ type: 'shell-local', inline: ['echo after > after.txt'] }]],
    }),
  });
  for (const [template, manifestPath, flavor, name] of [
    [hcl, join(hcl, 'out/manifest.json'), 'hcl', 'scaleway.pp'],
    [join(json, 'template.json'), join(json, 'packer-manifest.json'), 'json', 'scaleway'],
  ] as const) {
    const r = await runKiln(['build', '--json', template, '--db', join(cloud.dir, `pp-${flavor}.db`)], {
      cwd: dirname(manifestPath).replace(/\/out$/, ''),
      env: { PATH: process.env.PATH, HOME: cloud.dir, SCW_API_URL: cloud.sim.apiUrl, SCW_SECRET_KEY: SECRET, SCW_DEFAULT_PROJECT_ID: PROJECT },
    });
    assert.equal(r.code, 0, r.stderr);
    const all = events(r);
    const types = all.map((e) => e.type);
    assert.ok(types.indexOf('postprocessor.started') > types.indexOf('image.available'), 'after the image is available');
    assert.deepEqual(all.filter((e) => e.type === 'postprocessor.succeeded').map((e) => e.data.type), ['manifest', 'shell-local']);
    const succeeded = all.find((e) => e.type === 'build.succeeded')!;
    const manifest = JSON.parse(readFileSync(manifestPath, 'utf8')) as { builds: Array<Record<string, unknown>>; last_run_uuid: string };
    assert.equal(manifest.builds.length, 1);
    const [entry] = manifest.builds;
    assert.deepEqual(Object.keys(entry!), ['name', 'builder_type', 'build_time', 'files', 'artifact_id', 'packer_run_uuid', 'custom_data']);
    assert.equal(entry!.name, name);
    assert.equal(entry!.builder_type, 'scaleway');
    assert.equal(entry!.artifact_id, `fr-par-1:${(succeeded.data.artifact as { imageId: string }).imageId}`);
    assert.deepEqual(entry!.custom_data, { flavor });
    assert.equal(manifest.last_run_uuid, succeeded.buildId);
    assert.equal(readFileSync(join(dirname(manifestPath).replace(/\/out$/, ''), 'after.txt'), 'utf8'), 'after\n');
  }
});

test('a build killed during its post-processors resumes them: a finished shell-local is not run again, the manifest has one entry', { timeout: 180_000 }, async () => {
  const path = templateDir('post-processors-resume', {
    'build.pkr.hcl': `${simSource('ppr', '  image_name = "pp-resume"\n')}build {
  sources = ["source.scaleway.ppr"]
  post-processor "shell-local" {
    inline = ["echo ran >> \${path.root}/runs.txt"]
  }
  post-processor "manifest" {
    output = "\${path.root}/manifest.json"
  }
  post-processor "shell-local" {
    inline = ["echo second >> \${path.root}/runs.txt"]
  }
}
`,
  });
  const db = join(cloud.dir, 'ppr.db');
  // Killed after the first shell-local finished and the manifest was written, before the last one.
  const crashed = await kiln(['build', '--json', path], db, { KILN_CRASH_AT: 'postprocessor.succeeded:2' });
  assert.equal(crashed.signal, 'SIGKILL', crashed.stderr);
  const id = events(crashed)[0]!.buildId;
  const resumed = await kiln(['resume', id, '--json'], db);
  assert.equal(resumed.code, 0, resumed.stderr);
  assert.equal(readFileSync(join(path, 'runs.txt'), 'utf8'), 'ran\nsecond\n');
  const manifest = JSON.parse(readFileSync(join(path, 'manifest.json'), 'utf8')) as { builds: unknown[] };
  assert.equal(manifest.builds.length, 1);
  const images = await cloud.client.listImages({ tags: [`kiln-build=${id}`] });
  assert.deepEqual(images.map((i) => i.name), ['pp-resume'], 'one image, kept');
});

test('build.ID, build.Host, build.User and build.Port reach provisioners once the server is up, in HCL2 and as {{build `X`}} in JSON', { timeout: 180_000 }, async () => {
  const hcl = templateDir('build-values-hcl', {
    'build.pkr.hcl': `${simSource('bv', '')}build {
  sources = ["source.scaleway.bv"]
  provisioner "shell" {
    environment_vars = ["SERVER=\${build.ID}"]
    inline           = ["echo \\"id=$SERVER host=\${build.Host} user=\${build.User} port=\${build.Port} name=\${build.name}\\""]
  }
}
`,
  });
  const json = templateDir('build-values-json', {
    'template.json': JSON.stringify({
      builders: [{ type: 'scaleway', name: 'bv', image: 'ubuntu_jammy', zone: 'fr-par-1', commercial_type: 'DEV1-S', ssh_username: 'root', ssh_port: cloud.sim.sshPort }],
      provisioners: [{ type: 'shell', environment_vars: ['SERVER={{build `ID`}}'], inline: ['echo "id=$SERVER host={{ build `Host` }} user={{build `User`}} port={{build `Port`}} name={{build_name}}"'] }],
    }),
  });
  for (const [template, name] of [[hcl, 'bv'], [join(json, 'template.json'), 'bv']] as const) {
    const r = await kiln(['build', '--json', template], join(cloud.dir, `bv-${template.length}.db`));
    assert.equal(r.code, 0, r.stderr);
    const all = events(r);
    const serverId = all.find((e) => e.type === 'server.created')!.data.serverId as string;
    const publicIp = all.find((e) => e.type === 'server.running')!.data.publicIp as string;
    const lines = all.filter((e) => e.type === 'provision.output').flatMap((e) => (e.data.lines as Array<{ line: string }>).map((l) => l.line));
    assert.ok(lines.includes(`id=${serverId} host=${publicIp} user=root port=${cloud.sim.sshPort} name=${name}`), lines.join('\n'));
  }
});

test('a failing post-processor fails the build but keeps its image, which kiln gc leaves alone', { timeout: 180_000 }, async () => {
  const path = templateDir('post-processor-fails', {
    'build.pkr.hcl': `${simSource('ppf', '  image_name = "pp-fails"\n')}build {
  sources = ["source.scaleway.ppf"]
  post-processor "shell-local" {
    inline = ["echo going wrong", "exit 3"]
  }
}
`,
  });
  const db = join(cloud.dir, 'ppf.db');
  const r = await kiln(['build', '--json', path], db);
  assert.equal(r.code, 1, r.stderr);
  const id = events(r)[0]!.buildId;
  const images = await cloud.client.listImages({ tags: [`kiln-build=${id}`] });
  assert.deepEqual(images.map((i) => i.name), ['pp-fails']);
  const gc = await kiln(['gc', '--json', '--force', '--build', id], db);
  assert.equal(gc.code, 0, gc.stderr);
  assert.deepEqual((await cloud.client.listImages({ tags: [`kiln-build=${id}`] })).map((i) => i.name), ['pp-fails'], 'gc keeps the image');
});
