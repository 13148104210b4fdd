// What a newcomer meets first (issue 31): a template that is not JSON, an HCL2 file not named
// .pkr.hcl, the help that says which templates kiln reads, names that would break the log, and
// examples that warn about their own keys. kiln runs as a child process, as a user runs it.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { runKiln } from '../helpers/cli.js';

const SECRET = '7c0ffee0-1234-4abc-8def-0123456789ab';
const PROJECT = '9a8b7c6d-5e4f-4a3b-8c2d-1e0f9a8b7c6d';
const env = { PATH: process.env.PATH, HOME: tmpdir(), SCW_SECRET_KEY: SECRET, SCW_DEFAULT_PROJECT_ID: PROJECT };

function scratch(t: { after: (fn: () => void) => void }): string {
  const dir = mkdtempSync(join(tmpdir(), 'kiln-newcomer-'));
  t.after(() => rmSync(dir, { recursive: true, force: true }));
  return dir;
}

const HCL = `source "scaleway" "web" {
  zone            = "fr-par-1"
  image           = "ubuntu_jammy"
  commercial_type = "DEV1-S"
  ssh_username    = "root"
}

build {
  sources = ["source.scaleway.web"]
}
`;

test('an HCL2 template named web.hcl is told to be named web.pkr.hcl; other invalid JSON is not told HCL2 is unsupported', { timeout: 60_000 }, async (t) => {
  const dir = scratch(t);
  const hcl = join(dir, 'web.hcl');
  writeFileSync(hcl, HCL);
  // The same HCL2 in a file named .json, as a newcomer might save it.
  const hclAsJson = join(dir, 'web.json');
  writeFileSync(hclAsJson, HCL);
  for (const path of [hcl, hclAsJson]) {
    const r = await runKiln(['build', path], { env });
    assert.equal(r.code, 2, r.stderr);
    assert.match(r.stderr, /this looks like an HCL2 template: kiln \(like Packer\) reads HCL2 from files named \*\.pkr\.hcl, or from a directory of them; rename it web\.pkr\.hcl/);
    assert.doesNotMatch(r.stderr, /not supported/);
  }
  const broken = join(dir, 'broken.json');
  writeFileSync(broken, '{ "builders": [ { "type": "scaleway", } ] }');
  const r = await runKiln(['validate', broken], { env });
  assert.equal(r.code, 2, r.stderr);
  assert.match(r.stderr, /is not valid JSON: .* at line 1, column \d+/);
  assert.match(r.stderr, /examples\/basic\.json is one to start from/);
  assert.doesNotMatch(r.stderr, /HCL2 templates are not supported/);
});

test('kiln build --help names the templates kiln reads and what --var-file takes', { timeout: 60_000 }, async () => {
  const r = await runKiln(['build', '--help'], { env });
  assert.equal(r.code, 0, r.stderr);
  const help = r.stdout.replace(/\s+/g, ' ');
  assert.match(help, /HCL2 template \(\.pkr\.hcl, \.pkr\.json\) or a directory of HCL2 files/);
  assert.match(help, /--var-file Read template variables from a file \(repeatable\): JSON \{"name": "value"\}, or name = value in a \.pkrvars\.hcl file/);
  assert.doesNotMatch(help, /template> +Packer JSON template \(or a bare scaleway builder object\) +\[string\]/);
});

test('image_name and the other names kiln gives resources are checked as Scaleway checks names (exit 2, nothing built)', { timeout: 120_000 }, async (t) => {
  const dir = scratch(t);
  const cases: [string, string, RegExp][] = [
    ['a newline', 'web\nimage', /builders\[0\]\.image_name: contains a line break \(U\+000A\) at character 4/],
    ['a tab', 'web\timage', /builders\[0\]\.image_name: contains a tab \(U\+0009\)/],
    ['U+202E', 'web\u202Eegami', /builders\[0\]\.image_name: contains the invisible character U\+202E/],
    ['a leading space', ' web', /builders\[0\]\.image_name: starts with a space/],
    ['a trailing space', 'web ', /builders\[0\]\.image_name: ends with a space/],
    ['300 characters', 'w'.repeat(300), /builders\[0\]\.image_name: is 300 characters long; Scaleway names are at most 255/],
  ];
  for (const [what, name, said] of cases) {
    const path = join(dir, `t-${what.replace(/\W+/g, '-')}.json`);
    writeFileSync(path, JSON.stringify({ builders: [{ type: 'scaleway', zone: 'fr-par-1', image: 'ubuntu_jammy', commercial_type: 'DEV1-S', ssh_username: 'root', image_name: name }] }));
    const r = await runKiln(['validate', path], { env });
    assert.equal(r.code, 2, `${what}: ${r.stderr}`);
    assert.match(r.stderr, said, what);
  }
  // The same for server_name, snapshot_name and root_volume.snapshot_name.
  const path = join(dir, 'others.json');
  writeFileSync(
    path,
    JSON.stringify({
      builders: [{ type: 'scaleway', zone: 'fr-par-1', image: 'ubuntu_jammy', commercial_type: 'PRO2-XXS', ssh_username: 'root', server_name: 'a\nb', snapshot_name: ' s', root_volume: { snapshot_name: 'r\u202E' } }],
    }),
  );
  const others = await runKiln(['validate', path], { env });
  assert.equal(others.code, 2, others.stderr);
  for (const key of ['server_name', 'snapshot_name', 'root_volume.snapshot_name']) assert.match(others.stderr, new RegExp(`builders\\[0\\]\\.${key.replace('.', '\\.')}: `), key);
  // kiln build refuses it before anything is recorded.
  const db = join(dir, 'kiln.db');
  const build = await runKiln(['build', '--sim', '--db', db, join(dir, 't-a-newline.json')], { env });
  assert.equal(build.code, 2, build.stderr);
  const ls = await runKiln(['ls', '--json', '--db', db], { env });
  assert.deepEqual(JSON.parse(ls.stdout), []);
});

const examples = fileURLToPath(new URL(import.meta.url.endsWith('.ts') ? '../../examples/' : '../../../examples/', import.meta.url));

test('the examples use no deprecated key: validating them prints no warning', { timeout: 60_000 }, async () => {
  const templates = readdirSync(examples).filter((f) => f.endsWith('.json') || f.endsWith('.pkr.hcl'));
  assert.ok(templates.length >= 3, templates.join(', '));
  for (const name of templates) {
    const r = await runKiln(['validate', join(examples, name)], { env });
    assert.equal(r.code, 0, `${name}: ${r.stderr}`);
    assert.doesNotMatch(r.stderr, /deprecated|warning/i, name);
  }
});
