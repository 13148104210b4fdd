// Packer's flag spellings on kiln's command line: `packer` → `kiln` in a CI script is a one-word
// change. What each spelling parses to (kiln's own parser, the command's handler replaced), then
// kiln run as a user runs it: -only/-except on two builders, Packer's output flags, unknown flags.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { once } from 'node:events';
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { CommandModule } from 'yargs';
import { commands } from '../../src/cli/commands/index.js';
import { createCli } from '../../src/cli/parse.js';
import { unknownFlags } from '../../src/cli/argv.js';
import { cliArgv, runKiln } from '../helpers/cli.js';
import { packerMissing, runPacker } from '../helpers/packer.js';
import { startTestSimulator } from '../helpers/sim.js';

/** What `kiln <args>` hands its command, without running it. */
async function parse(args: string[]): Promise<Record<string, unknown>> {
  let parsed: Record<string, unknown> | undefined;
  // eslint-disable-next-line @typescript-eslint/no-explicit-any
  const capturing = commands.map((c): CommandModule<any, any> => ({ ...c, handler: (argv: Record<string, unknown>) => void (parsed = argv) }));
  await createCli(args, capturing).parseAsync();
  assert.ok(parsed, `kiln ${args.join(' ')} ran its command`);
  return parsed;
}

test('kiln build: each of Packer\'s flags, with one dash and = or a space, and with two dashes', async () => {
  const spellings: [string[], Record<string, unknown>][] = [
    [['-var', 'a=b'], { var: ['a=b'] }],
    [['-var=a=b', '-var', 'c=d'], { var: ['a=b', 'c=d'] }],
    [['--var', 'a=b'], { var: ['a=b'] }],
    [['-var-file', 'v.json'], { 'var-file': ['v.json'] }],
    [['-var-file=v.json'], { 'var-file': ['v.json'] }],
    [['-only=web-*,db'], { only: ['web-*,db'] }],
    [['-only', 'web-1'], { only: ['web-1'] }],
    [['-except=db'], { except: ['db'] }],
    [['-except', 'db', '--except', 'cache'], { except: ['db', 'cache'] }],
    [['-force'], { force: true }],
    [['-on-error=abort'], { 'on-error': 'abort' }],
    [['-on-error', 'ask'], { 'on-error': 'ask' }],
    [['-on-error=run-cleanup-provisioner'], { 'on-error': 'run-cleanup-provisioner' }],
    [['-parallel-builds=2'], { 'parallel-builds': 2 }],
    [['-parallel-builds', '1'], { 'parallel-builds': 1 }],
    [['-color=false'], { color: false }],
    [['-timestamp-ui'], { 'timestamp-ui': true }],
    [['-machine-readable'], { 'machine-readable': true }],
    [['--machine-readable', '-debug'], { 'machine-readable': true, debug: true }],
  ];
  for (const [flags, expected] of spellings) {
    const argv = await parse(['build', ...flags, 'template.json']);
    assert.equal(argv.template, 'template.json', `${flags.join(' ')}: the template stays the template`);
    for (const [key, value] of Object.entries(expected)) assert.deepEqual(argv[key], value, `kiln build ${flags.join(' ')}: ${key}`);
  }
  // Flags after the template too, as Go's flag package does not allow but scripts may write.
  assert.equal((await parse(['build', 'template.json', '-machine-readable']))['machine-readable'], true);
  // The defaults a script relies on.
  const plain = await parse(['build', 'template.json']);
  assert.deepEqual([plain['on-error'], plain.color, plain['machine-readable'], plain['timestamp-ui'], plain['parallel-builds']], ['cleanup', true, false, false, 0]);
});

test("kiln validate: Packer's -syntax-only, -var, -var-file, -only, -except", async () => {
  const argv = await parse(['validate', '-syntax-only', '-var', 'a=b', '-var-file=v.json', '-only=web', '-except', 'db', 'template.json']);
  assert.deepEqual(
    [argv['syntax-only'], argv.var, argv['var-file'], argv.only, argv.except, argv.template],
    [true, ['a=b'], ['v.json'], ['web'], ['db'], 'template.json'],
  );
});

test('kiln resume and kiln gc take the same output flags', async () => {
  const resume = await parse(['resume', '-machine-readable', '-color=false', '-timestamp-ui', '-on-error=abort', '01ABC']);
  assert.deepEqual([resume['machine-readable'], resume.color, resume['timestamp-ui'], resume['on-error'], resume.id], [true, false, true, 'abort', '01ABC']);
  const gc = await parse(['gc', '-machine-readable', '-color=false', '-timestamp-ui', '-force', '-older-than=2h']);
  assert.deepEqual([gc['machine-readable'], gc.color, gc['timestamp-ui'], gc.force, gc['older-than']], [true, false, true, true, '2h']);
});

test('an unknown flag is found before parsing, with the nearest known one in the same spelling', () => {
  const known = new Set(['machine-readable', 'var', 'var-file', 'json', 'help', 'h', 'color']);
  assert.deepEqual(unknownFlags(['build', '-machine-redable', 't.json'], known), ['unknown flag -machine-redable (did you mean -machine-readable?)']);
  assert.deepEqual(unknownFlags(['build', '--jsno'], known), ['unknown flag --jsno (did you mean --json?)']);
  assert.deepEqual(unknownFlags(['build', '-x'], known), ['unknown flag -x']);
  // Known: long and short, negated booleans, camelCase, values after =, and nothing after `--`.
  assert.deepEqual(unknownFlags(['build', '-var=a=b', '-h', '--no-color', '--varFile', 'x', '--', '-whatever', '-1'], known), []);
});

// --- kiln itself, as a script runs it ------------------------------------------------------------

function workDir(t: { after: (fn: () => void) => void }): string {
  const dir = mkdtempSync(join(tmpdir(), 'kiln-packer-flags-'));
  t.after(() => rmSync(dir, { recursive: true, force: true }));
  return dir;
}

/** Two builders, web-1 and db-1, with no communicator: the quickest real builds. */
function twoBuilders(dir: string): string {
  const builder = (name: string) => ({
    type: 'scaleway',
    name,
    image: 'ubuntu_jammy',
    zone: 'fr-par-1',
    commercial_type: 'DEV1-S',
    communicator: 'none',
    image_name: '{{build_name}}-{{timestamp}}',
    snapshot_name: '{{build_name}}-snapshot-{{timestamp}}',
  });
  const path = join(dir, 'two.json');
  writeFileSync(path, JSON.stringify({ builders: [builder('web-1'), builder('db-1')] }));
  return path;
}

const artifactTargets = (stdout: string): string[] => [...stdout.matchAll(/^\d{10},([^,]+),artifact,0,id,/gm)].map((m) => m[1]!);

test('-only and -except choose the builds of a two-builder template; a name that matches nothing is exit 2', { timeout: 180_000 }, async (t) => {
  const dir = workDir(t);
  const template = twoBuilders(dir);
  const db = join(dir, 'kiln.db');

  const only = await runKiln(['build', '-sim', '-machine-readable', '-only=web-*', '-db', db, template]);
  assert.equal(only.code, 0, only.stderr + only.stdout);
  assert.deepEqual(artifactTargets(only.stdout), ['web-1']);

  const except = await runKiln(['build', '-sim', '-machine-readable', '-except', 'web-1', '-parallel-builds=1', '-db', db, template]);
  assert.equal(except.code, 0, except.stderr + except.stdout);
  assert.deepEqual(artifactTargets(except.stdout), ['db-1']);

  const both = await runKiln(['build', '-sim', '-machine-readable', '-only={web,db}-1', '-db', db, template]);
  assert.equal(both.code, 0, both.stderr + both.stdout);
  assert.deepEqual(artifactTargets(both.stdout).sort(), ['db-1', 'web-1']);

  const typo = await runKiln(['build', '-sim', '-only=web1', '-db', db, template]);
  assert.equal(typo.code, 2, 'a typo in -only is not a successful build of nothing');
  assert.match(typo.stderr, /-only=web1: matches no build of the template \(did you mean "web-1"\?/);
  const none = await runKiln(['build', '-sim', '-except=*', '-db', db, template]);
  assert.equal(none.code, 2);
  assert.match(none.stderr, /leave no build to run/);

  // The builds that ran are the ones kiln recorded; resume of a finished one still prints its artifact lines.
  const builds = JSON.parse((await runKiln(['ls', '--json', '--db', db])).stdout) as { id: string; builder: string }[];
  assert.equal(builds.length, 4);
  const resumed = await runKiln(['resume', '-machine-readable', '-db', db, builds[0]!.id]);
  assert.equal(resumed.code, 0, resumed.stderr);
  assert.equal(artifactTargets(resumed.stdout).length, 1);
});

test('-timestamp-ui prefixes each line with an RFC 3339 timestamp; -on-error=run-cleanup-provisioner runs the error-cleanup-provisioner, then keeps everything', { timeout: 120_000 }, async (t) => {
  const dir = workDir(t);
  const template = join(dir, 'failing.json');
  const builder = { type: 'scaleway', image: 'ubuntu_jammy', zone: 'fr-par-1', commercial_type: 'DEV1-S', ssh_username: 'root' };
  writeFileSync(template, JSON.stringify({
    builders: [builder],
    provisioners: [{ type: 'shell', inline: ['echo about to fail', 'exit 4'] }],
    'error-cleanup-provisioner': { type: 'shell', inline: ['echo cleaning up on the server'] },
  }));
  const r = await runKiln(['build', '-sim', '-timestamp-ui', '-on-error=run-cleanup-provisioner', '-db', join(dir, 'kiln.db'), template]);
  assert.equal(r.code, 1, r.stderr + r.stdout);
  // Kept, not cleaned up: under --sim what is kept ends with the embedded simulator, and kiln says so.
  assert.doesNotMatch(r.stderr, /Everything the build created was removed/);
  assert.match(r.stderr, /ran against the simulator embedded in `kiln build --sim`/);
  const lines = r.stdout.split('\n').filter(Boolean);
  assert.ok(lines.length > 5);
  for (const line of lines) assert.match(line, /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d(Z|[+-]\d\d:\d\d): /, line);
  assert.ok(lines.some((l) => /[Z0-9]: {5}scaleway: about to fail$/.test(l)), 'provisioner output, prefixed too');
  const failed = lines.findIndex((l) => l.includes('about to fail'));
  const cleaned = lines.findIndex((l) => /scaleway: cleaning up on the server$/.test(l));
  assert.ok(failed >= 0 && cleaned > failed, `the error-cleanup-provisioner ran after the failure:\n${lines.join('\n')}`);
});

const noScript = existsSync('/usr/bin/script') ? false : '/usr/bin/script (util-linux) is not installed: no pseudo-terminal to run kiln on';

test('-color=false on a terminal: no escape sequences at all (with colours, the live block has them)', { timeout: 120_000, skip: noScript }, async (t) => {
  const dir = workDir(t);
  const template = twoBuilders(dir);
  const onTerminal = async (flags: string[]): Promise<{ code: number | null; screen: string }> => {
    const command = [process.execPath, ...cliArgv(['build', '-sim', '-only=web-1', ...flags, '-db', join(dir, 'kiln.db'), template])].map((a) => `'${a}'`).join(' ');
    const child = spawn('script', ['-qefc', command, '/dev/null'], { stdio: ['ignore', 'pipe', 'pipe'], env: { ...process.env, TERM: 'xterm' } });
    t.after(() => child.kill('SIGKILL'));
    let screen = '';
    child.stdout!.setEncoding('utf8').on('data', (chunk: string) => (screen += chunk));
    const [code] = (await once(child, 'close')) as [number | null];
    return { code, screen };
  };
  const colourless = await onTerminal(['-color=false']);
  assert.equal(colourless.code, 0, colourless.screen.slice(-2000));
  assert.match(colourless.screen, /Builds finished/);
  assert.ok(!colourless.screen.includes('\x1b['), 'no ANSI escape sequence');
  const coloured = await onTerminal([]);
  assert.equal(coloured.code, 0, coloured.screen.slice(-2000));
  assert.ok(coloured.screen.includes('\x1b['), 'the default on a terminal does use them');
});

test('kiln gc -machine-readable: every line of its report is a ui line', { timeout: 60_000 }, async (t) => {
  const dir = workDir(t);
  const sim = await startTestSimulator();
  t.after(() => sim.close());
  const env = { ...process.env, SCW_API_URL: sim.apiUrl, SCW_SECRET_KEY: '00000000-0000-4000-8000-000000000000', SCW_CONFIG_PATH: join(dir, 'none.yaml') };
  const r = await runKiln(['gc', '-machine-readable', '-older-than=0', '-db', join(dir, 'kiln.db')], { env });
  assert.equal(r.code, 0, r.stderr + r.stdout);
  const lines = r.stdout.split('\n').filter(Boolean);
  assert.ok(lines.length > 0);
  for (const line of lines) assert.match(line, /^\d{10},,ui,say,/, line);
});

test('unknown flags, one dash or two: exit 2 with a did-you-mean, never the help and exit 0', async () => {
  for (const [args, hint] of [
    [['build', '-machine-redable', 't.json'], /unknown flag -machine-redable \(did you mean -machine-readable\?\)/],
    [['build', '--parallel-build=2', 't.json'], /unknown flag --parallel-build \(did you mean --parallel-builds\?\)/],
    [['build', '-hv', 't.json'], /unknown flag -hv/],
    [['validate', '-syntaxonly', 't.json'], /did you mean -syntax-only\?/],
    [['gc', '-jsn'], /did you mean -json\?/],
  ] as const) {
    const r = await runKiln([...args]);
    assert.equal(r.code, 2, `kiln ${args.join(' ')}: ${r.stdout}${r.stderr}`);
    assert.match(r.stderr, hint);
    assert.equal(r.stdout, '', 'no help on stdout');
  }
  const badChoice = await runKiln(['build', '-on-error=explode', 't.json']);
  assert.equal(badChoice.code, 2);
  assert.match(badChoice.stderr, /run-cleanup-provisioner/);
  // The help is still there when asked for.
  for (const help of [['build', '-h'], ['build', '-help'], ['build', '--help']]) {
    const r = await runKiln(help);
    assert.equal(r.code, 0);
    assert.match(r.stdout, /-machine-readable/);
  }
});

test('validate -syntax-only accepts and refuses what packer validate -syntax-only does', { skip: packerMissing, timeout: 120_000 }, async (t) => {
  const dir = workDir(t);
  const scaleway = { type: 'scaleway' };
  const templates: Record<string, string> = {
    'minimal.json': JSON.stringify({ builders: [scaleway] }),
    'every-key.json': JSON.stringify({
      _comment: 'x', description: 'd', min_packer_version: '1.0.0', variables: {}, 'sensitive-variables': [],
      builders: [scaleway], provisioners: [{ type: 'shell', inline: ['true'] }], 'post-processors': [{ type: 'manifest' }],
      'error-cleanup-provisioner': { type: 'shell-local', inline: ['true'] },
    }),
    'no-builders.json': JSON.stringify({ variables: {} }),
    'trailing-comma.json': '{"builders":[{"type":"scaleway",}]}',
    'builder-without-type.json': JSON.stringify({ builders: [{ name: 'x' }] }),
    'unknown-key.json': JSON.stringify({ builders: [scaleway], bogus: 1 }),
    'same-name.json': JSON.stringify({ builders: [{ ...scaleway, name: 'a' }, { ...scaleway, name: 'a' }] }),
    'provisioner-without-type.json': JSON.stringify({ builders: [scaleway], provisioners: [{ inline: ['x'] }] }),
    'builders-object.json': JSON.stringify({ builders: scaleway }),
    'array.json': '[]',
    'valid.pkr.hcl': 'source "scaleway" "x" {\n  image = var.not_checked_here\n}\nbuild {\n  sources = ["source.scaleway.x"]\n}\n',
    'unclosed.pkr.hcl': 'source "scaleway" "x" {\n  image = "a"\n\nbuild {\n}\n',
    'unknown-block.pkr.hcl': 'bogus "x" {\n}\n',
  };
  for (const [name, text] of Object.entries(templates)) {
    const path = join(dir, name);
    writeFileSync(path, text);
    const packer = await runPacker(['validate', '-syntax-only', path], dir);
    const kiln = await runKiln(['validate', '-syntax-only', path]);
    // Packer exits 1 for a bad template, kiln 2 (its code for invalid input).
    assert.equal(kiln.code, packer.code === 0 ? 0 : 2, `${name}: packer ${packer.code} (${packer.output.trim()}), kiln ${kiln.code} (${kiln.stderr.trim()})`);
    if (kiln.code === 0) assert.equal(kiln.stdout, 'Syntax-only check passed. Everything looks okay.\n');
  }
});

test('-except skips a post-processor by name; -only never does (Packer 1.6.6)', { timeout: 180_000 }, async (t) => {
  const dir = workDir(t);
  const two = JSON.parse(readFileSync(twoBuilders(dir), 'utf8')) as Record<string, unknown>;
  const manifest = join(dir, 'manifest.json');
  const notified = join(dir, 'notified');
  const template = join(dir, 'with-post-processors.json');
  writeFileSync(
    template,
    JSON.stringify({
      ...two,
      'post-processors': [
        { type: 'manifest', output: manifest },
        { type: 'shell-local', name: 'notify', inline: [`echo "$PACKER_BUILD_NAME" >> '${notified}'`] },
      ],
    }),
  );
  const db = join(dir, 'kiln.db');
  const manifestBuilds = () => (JSON.parse(readFileSync(manifest, 'utf8')) as { builds: { name: string }[] }).builds.map((b) => b.name);

  const skipped = await runKiln(['build', '-sim', '-only=web-1', '-except=notify', '-db', db, template]);
  assert.equal(skipped.code, 0, skipped.stderr + skipped.stdout);
  assert.deepEqual(manifestBuilds(), ['web-1'], 'the manifest post-processor ran');
  assert.ok(!existsSync(notified), '-except=notify skipped the shell-local post-processor');

  const onlyBuild = await runKiln(['build', '-sim', '-only=db-1', '-db', db, template]);
  assert.equal(onlyBuild.code, 0, onlyBuild.stderr + onlyBuild.stdout);
  assert.deepEqual(manifestBuilds(), ['web-1', 'db-1']);
  assert.ok(existsSync(notified), '-only names builds: it skips no post-processor');

  const typo = await runKiln(['build', '-sim', '-except=notfy', '-db', db, template]);
  assert.equal(typo.code, 2);
  assert.match(typo.stderr, /-except=notfy: matches no build or post-processor of the template \(did you mean "notify"\?/);
});
