// Packer's other commands as a CI script runs them, through the kiln binary: init, fmt (its
// flags and exit codes), inspect, version and completion, and the unknown-flag refusal.
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { spawn } from 'node:child_process';
import { cliArgv, runKiln } from '../helpers/cli.js';
import { formatHcl } from '../../src/template/hcl/format.js';

const MESSY = 'variable "zone" {\ndefault =   "fr-par-1"\n  type= string # the zone\n}\n';
const TIDY = formatHcl(MESSY);

function scratch(): string {
  return mkdtempSync(join(tmpdir(), 'kiln-packer-commands-'));
}

/** kiln with `input` on stdin. */
function kilnWithInput(args: string[], input: string, cwd: string): Promise<{ code: number | null; stdout: string; stderr: string }> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, cliArgv(args), { cwd, stdio: ['pipe', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (d: Buffer) => (stdout += d.toString()));
    child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
    child.on('error', reject);
    child.on('close', (code) => resolve({ code, stdout, stderr }));
    child.stdin.end(input);
  });
}

describe('kiln fmt', () => {
  it('-check lists the files that would change and exits 3, writing nothing; then formats them in place', { timeout: 60_000 }, async () => {
    const dir = scratch();
    try {
      writeFileSync(join(dir, 'a.pkr.hcl'), MESSY);
      writeFileSync(join(dir, 'b.pkr.hcl'), TIDY);
      writeFileSync(join(dir, 'prod.pkrvars.hcl'), 'zone="nl-ams-1"\n');
      writeFileSync(join(dir, 'template.json'), '{ "builders" : [] }');
      const check = await runKiln(['fmt', '-check', '.'], { cwd: dir });
      assert.equal(check.code, 3, check.stderr);
      assert.deepEqual(check.stdout.trim().split('\n').sort(), ['a.pkr.hcl', 'prod.pkrvars.hcl']);
      assert.equal(readFileSync(join(dir, 'a.pkr.hcl'), 'utf8'), MESSY);

      const dryRun = await runKiln(['fmt', '-write=false', '-diff', '.'], { cwd: dir });
      assert.equal(dryRun.code, 0, dryRun.stderr);
      assert.match(dryRun.stdout, /--- old\/a\.pkr\.hcl\n\+\+\+ new\/a\.pkr\.hcl\n@@/);
      assert.match(dryRun.stdout, /^-default =   "fr-par-1"$/m);
      assert.equal(readFileSync(join(dir, 'a.pkr.hcl'), 'utf8'), MESSY);

      const write = await runKiln(['fmt', '.'], { cwd: dir });
      assert.equal(write.code, 0, write.stderr);
      assert.equal(readFileSync(join(dir, 'a.pkr.hcl'), 'utf8'), TIDY);
      assert.equal(readFileSync(join(dir, 'template.json'), 'utf8'), '{ "builders" : [] }', 'JSON is left alone');
      assert.equal((await runKiln(['fmt', '-check', '.'], { cwd: dir })).code, 0);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it('-recursive goes into subdirectories (hidden ones aside); without it, it does not', { timeout: 60_000 }, async () => {
    const dir = scratch();
    try {
      mkdirSync(join(dir, 'sub/deeper'), { recursive: true });
      mkdirSync(join(dir, '.hidden'));
      writeFileSync(join(dir, 'sub/deeper/c.pkr.hcl'), MESSY);
      writeFileSync(join(dir, '.hidden/d.pkr.hcl'), MESSY);
      assert.equal((await runKiln(['fmt', '-check', dir])).code, 0);
      const recursive = await runKiln(['fmt', '-check', '-recursive', dir]);
      assert.equal(recursive.code, 3);
      assert.deepEqual(recursive.stdout.trim().split('\n'), [join(dir, 'sub/deeper/c.pkr.hcl')]);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it('- formats stdin to stdout; a file that does not parse is named at file:line:col, left alone, exit 2', { timeout: 60_000 }, async () => {
    const dir = scratch();
    try {
      const piped = await kilnWithInput(['fmt', '-'], MESSY, dir);
      assert.equal(piped.code, 0, piped.stderr);
      assert.equal(piped.stdout, TIDY);
      assert.equal((await kilnWithInput(['fmt', '-check', '-'], MESSY, dir)).code, 3);

      writeFileSync(join(dir, 'broken.pkr.hcl'), 'locals {\n  a = [1, 2\n}\n');
      const broken = await runKiln(['fmt', 'broken.pkr.hcl'], { cwd: dir });
      assert.equal(broken.code, 2);
      assert.match(broken.stderr, /broken\.pkr\.hcl:3:1: /);
      assert.equal(readFileSync(join(dir, 'broken.pkr.hcl'), 'utf8'), 'locals {\n  a = [1, 2\n}\n');

      writeFileSync(join(dir, 'template.json'), '{}');
      const json = await runKiln(['fmt', 'template.json'], { cwd: dir });
      assert.equal(json.code, 2);
      assert.match(json.stderr, /not an HCL2 file/);
      const typo = await runKiln(['fmt', '-chek', '.'], { cwd: dir });
      assert.equal(typo.code, 2);
      assert.match(typo.stderr, /unknown flag -chek \(did you mean -check\?\)/);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});

describe('kiln init', () => {
  const packerBlock = (plugins: string) => `packer {\n  required_plugins {\n${plugins}  }\n}\n`;
  const scaleway = (version: string) => `    scaleway = {\n      version = "${version}"\n      source  = "github.com/scaleway/scaleway"\n    }\n`;

  it('says the scaleway plugin is built in, warns when the constraint excludes the version kiln follows, refuses other plugins', { timeout: 60_000 }, async () => {
    const dir = scratch();
    try {
      writeFileSync(join(dir, 'plugins.pkr.hcl'), packerBlock(scaleway('>= 1.0.0')));
      const ok = await runKiln(['init', '.', '-upgrade'], { cwd: dir });
      assert.equal(ok.code, 0, ok.stderr);
      assert.match(ok.stdout, /^kiln init: scaleway \(github\.com\/scaleway\/scaleway >= 1\.0\.0\): built into kiln/);
      assert.equal(ok.stdout.trim().split('\n').length, 1);
      assert.equal(ok.stderr, '');

      writeFileSync(join(dir, 'plugins.pkr.hcl'), packerBlock(scaleway('~> 2.1')));
      const old = await runKiln(['init', dir]);
      assert.equal(old.code, 0, old.stderr);
      assert.match(old.stderr, /the constraint "~> 2\.1" excludes v1\.5\.0/);

      writeFileSync(join(dir, 'plugins.pkr.hcl'), packerBlock(`${scaleway('>= 1')}    amazon = {\n      version = ">= 1.0.0"\n      source  = "github.com/hashicorp/amazon"\n    }\n`));
      const refused = await runKiln(['init', dir]);
      assert.equal(refused.code, 2);
      assert.match(refused.stderr, /kiln has no "amazon" plugin \(github\.com\/hashicorp\/amazon\)/);

      writeFileSync(join(dir, 'plugins.pkr.hcl'), 'variable "zone" {\n  default = "fr-par-1"\n}\n');
      const none = await runKiln(['init', dir]);
      assert.equal(none.code, 0, none.stderr);
      assert.match(none.stdout, /no required_plugins: nothing to install/);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});

describe('kiln version and completion', () => {
  it('kiln version and kiln --version name kiln, Node and the store schema', { timeout: 60_000 }, async () => {
    const pkg = JSON.parse(readFileSync('package.json', 'utf8')) as { version: string };
    const migrations = readdirSync('migrations').filter((f) => /^\d{4}_.+\.sql$/.test(f)).sort();
    const last = migrations.at(-1)!;
    for (const args of [['version'], ['--version']]) {
      const result = await runKiln(args);
      assert.equal(result.code, 0, result.stderr);
      assert.equal(result.stdout, `kiln v${pkg.version}\nNode ${process.version}\nstore schema ${Number(last.slice(0, 4))} (${last.replace(/\.sql$/, '')})\n`);
    }
    const machine = await runKiln(['version', '-machine-readable']);
    assert.match(machine.stdout, new RegExp(`^\\d+,,version,${pkg.version.replace(/\./g, '\\.')}$`, 'm'));
  });

  it('kiln completion bash and zsh print scripts that complete kiln\'s commands', { timeout: 60_000 }, async () => {
    const bash = await runKiln(['completion', 'bash']);
    assert.equal(bash.code, 0, bash.stderr);
    assert.match(bash.stdout, /complete -o bashdefault -o default -F _kiln_yargs_completions kiln/);
    const zsh = await runKiln(['completion', 'zsh']);
    assert.match(zsh.stdout, /compdef _kiln_yargs_completions kiln/);
    const words = await runKiln(['--get-yargs-completions', 'kiln', 'fmt', '--ch']);
    assert.ok(words.stdout.split('\n').includes('--check'), words.stdout);
    const commands = await runKiln(['--get-yargs-completions', 'kiln', '']);
    for (const command of ['build', 'fmt', 'init', 'inspect', 'console', 'hcl2_upgrade', 'version']) assert.ok(commands.stdout.split('\n').includes(command), command);
  });
});
