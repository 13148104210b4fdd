// kiln installed as a user installs it: `npm pack`, then `npm install -g` of the tarball into a
// temporary prefix, then `kiln` from that prefix's bin/ run in another directory: validate, build
// --sim of a template written there, ls and gc (against a `kiln sim` started from the install).
// Nothing may be read from the clone: the installed package finds its migrations and everything
// else beside itself, with only the production dependencies installed.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { execFile, spawn } from 'node:child_process';
import { copyFileSync, existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { createInterface } from 'node:readline';

/** The package root: the folder holding package.json (two levels above this file, in sources or dist/). */
const ROOT = fileURLToPath(new URL(import.meta.url.includes('/dist/') ? '../../../' : '../../', import.meta.url));

interface Run {
  code: number;
  stdout: string;
  stderr: string;
}

function run(command: string, args: string[], options: { cwd: string; env?: NodeJS.ProcessEnv; timeout?: number }): Promise<Run> {
  return new Promise((resolve) => {
    execFile(command, args, { cwd: options.cwd, env: options.env ?? process.env, maxBuffer: 64 * 1024 * 1024, timeout: options.timeout ?? 0 }, (error, stdout, stderr) => {
      const code = error ? (typeof (error as { code?: unknown }).code === 'number' ? (error as { code: number }).code : 1) : 0;
      resolve({ code, stdout, stderr });
    });
  });
}

/** The install scripts that must run (README, "Install"); kiln's own (its prepare, which npm does
 *  not run for a tarball) is named by the tarball's absolute path, as npm matches a file dependency. */
const ALLOW_SCRIPTS = 'better-sqlite3,ssh2,cpu-features';

test('npm pack, npm install -g, then kiln validate, build --sim, ls and gc from another directory', { timeout: 1_800_000 }, async () => {
  const work = mkdtempSync(join(tmpdir(), 'kiln-pack-install-'));
  try {
    // 1. The package: only what runs.
    const pack = await run('npm', ['pack', '--json', '--pack-destination', work], { cwd: ROOT });
    assert.equal(pack.code, 0, pack.stderr);
    const [packed] = JSON.parse(pack.stdout.slice(pack.stdout.indexOf('['))) as Array<{ filename: string; entryCount: number; files: Array<{ path: string }> }>;
    const paths = packed!.files.map((f) => f.path);
    assert.ok(paths.includes('dist/src/cli/main.js') && paths.includes('migrations/0001_init.sql') && paths.includes('migrations/postgres/0001_init.sql'), 'the CLI and the migrations are in');
    assert.deepEqual(paths.filter((p) => /^(test|scripts|src|examples|docs|\.ci)\/|^dist\/(test|scripts)\/|\.(ts|map)$|tsbuildinfo/.test(p)), [], 'no tests, scripts, sources or source maps');

    // 2. Installed globally into a prefix of its own. better-sqlite3 is given the binary this clone
    //    already compiled (prebuild-install's local-prebuild mechanism), so the test does not spend
    //    minutes compiling SQLite again; everything else installs as it would for a user.
    const prefix = join(work, 'prefix');
    const prebuilds = join(work, 'prebuilds');
    const env: NodeJS.ProcessEnv = { ...process.env };
    const compiled = join(ROOT, 'node_modules/better-sqlite3/build/Release/better_sqlite3.node');
    if (existsSync(compiled)) {
      const { version } = JSON.parse(readFileSync(join(ROOT, 'node_modules/better-sqlite3/package.json'), 'utf8')) as { version: string };
      mkdirSync(join(work, 'build/Release'), { recursive: true });
      copyFileSync(compiled, join(work, 'build/Release/better_sqlite3.node'));
      mkdirSync(prebuilds);
      const tar = await run('tar', ['czf', join(prebuilds, `better-sqlite3-v${version}-node-v${process.versions.modules}-${process.platform}-${process.arch}.tar.gz`), 'build'], { cwd: work });
      assert.equal(tar.code, 0, tar.stderr);
      env.npm_config_better_sqlite3_local_prebuilds = prebuilds;
    }
    const tarball = join(work, packed!.filename);
    const install = await run('npm', ['install', '-g', '--prefix', prefix, '--prefer-offline', `--allow-scripts=${ALLOW_SCRIPTS},${tarball}`, tarball], { cwd: work, env });
    assert.equal(install.code, 0, install.stdout + install.stderr);
    assert.doesNotMatch(install.stderr, /not yet covered by allowScripts/, 'the declared install scripts keep npm quiet');
    const installed = join(prefix, 'lib/node_modules/kiln');
    assert.equal(existsSync(join(installed, 'node_modules/typescript')) || existsSync(join(installed, 'node_modules/tsx')), false, 'no dev dependency');

    // 3. kiln from the prefix, in a directory of its own, with its own state: nothing from the clone.
    const elsewhere = join(work, 'elsewhere');
    mkdirSync(elsewhere);
    const kilnEnv: NodeJS.ProcessEnv = { PATH: `${join(prefix, 'bin')}:/usr/local/bin:/usr/bin:/bin`, HOME: elsewhere, KILN_DB: join(elsewhere, 'kiln.db'), KILN_STATE_DIR: join(elsewhere, 'state') };
    const kiln = (...args: string[]) => run('kiln', args, { cwd: elsewhere, env: kilnEnv, timeout: 600_000 });
    const { version } = JSON.parse(readFileSync(join(ROOT, 'package.json'), 'utf8')) as { version: string };
    assert.equal((await kiln('version')).stdout.split('\n')[0], `kiln v${version}`);
    writeFileSync(join(elsewhere, 'image.pkr.hcl'), `source "scaleway" "here" {
  image           = "ubuntu_jammy"
  zone            = "fr-par-1"
  commercial_type = "DEV1-S"
  ssh_username    = "root"
  image_name      = "installed-kiln"
}

build {
  sources = ["source.scaleway.here"]

  provisioner "shell" {
    inline = ["echo from the installed kiln > /etc/motd"]
  }
}
`);
    const simEnv = { SCW_SECRET_KEY: '00000000-0000-4000-8000-000000000000', SCW_DEFAULT_PROJECT_ID: '00000000-0000-4000-8000-00000000c1a7' };
    const validate = await run('kiln', ['validate', 'image.pkr.hcl'], { cwd: elsewhere, env: { ...kilnEnv, ...simEnv } });
    assert.equal(validate.code, 0, validate.stderr);
    const build = await kiln('build', '--sim', 'image.pkr.hcl');
    assert.equal(build.code, 0, build.stdout + build.stderr);
    assert.match(build.stdout, /An image was created: 'installed-kiln'/);
    const ls = await kiln('ls', '--json');
    assert.equal(ls.code, 0, ls.stderr);
    assert.deepEqual((JSON.parse(ls.stdout) as Array<{ status: string; template: string }>).map((b) => [b.status, b.template]), [['succeeded', join(elsewhere, 'image.pkr.hcl')]]);

    // gc against a simulator started from the installed package.
    const sim = spawn('kiln', ['sim', '--port', '0', '--ssh-port', '0'], { cwd: elsewhere, env: kilnEnv, stdio: ['ignore', 'pipe', 'pipe'] });
    try {
      let apiUrl: string | undefined;
      for await (const line of createInterface({ input: sim.stdout })) {
        apiUrl = /API: (\S+)/.exec(line)?.[1];
        if (apiUrl) break;
      }
      assert.ok(apiUrl, 'kiln sim printed its API address');
      const gc = await run('kiln', ['gc', '--json'], { cwd: elsewhere, env: { ...kilnEnv, ...simEnv, SCW_API_URL: apiUrl } });
      assert.equal(gc.code, 0, gc.stderr);
      assert.ok(JSON.parse(gc.stdout), 'a JSON plan');
    } finally {
      sim.kill('SIGTERM');
    }
  } finally {
    rmSync(work, { recursive: true, force: true });
  }
});
