// The shell-local provisioner: runs on this machine, same environment rules as shell.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { runProvisioner, ProvisionerError } from '../../src/provision/index.js';
import { recordingContext, shellLocalSpec } from './specs.js';

let dir: string;
before(() => {
  dir = mkdtempSync(join(tmpdir(), 'kiln-shell-local-test-'));
}, { timeout: 60_000 });
after(() => rmSync(dir, { recursive: true, force: true }), { timeout: 60_000 });

test('inline commands run locally with the build variables, output tagged by index and stream', { timeout: 60_000 }, async () => {
  const ctx = recordingContext(undefined);
  await runProvisioner(
    shellLocalSpec({
      index: 3,
      inline: ['echo "$PACKER_BUILD_NAME $PACKER_BUILDER_TYPE $GREETING"', 'echo warn >&2', `pwd > '${dir}/where'`],
      environmentVars: ["GREETING=it's me"],
    }),
    ctx,
  );
  assert.deepEqual(ctx.output.filter((o) => o.stream === 'stdout'), [{ index: 3, stream: 'stdout', line: "test-build scaleway it's me" }]);
  assert.deepEqual(ctx.output.filter((o) => o.stream === 'stderr'), [{ index: 3, stream: 'stderr', line: 'warn' }]);
  assert.equal(readFileSync(join(dir, 'where'), 'utf8').trim(), process.cwd(), 'runs in kiln’s working directory, on this machine');
});

test('command and scripts: executable scripts run by their shebang, others by /bin/sh', { timeout: 60_000 }, async () => {
  const executable = join(dir, 'exec.sh');
  const plain = join(dir, 'plain.sh');
  writeFileSync(executable, '#!/bin/sh\necho "exec $MODE"\n', { mode: 0o755 });
  writeFileSync(plain, 'echo "plain $MODE"\n', { mode: 0o644 });
  const ctx = recordingContext(undefined);
  await runProvisioner(shellLocalSpec({ scripts: [executable, plain], environmentVars: ['MODE=m'] }), ctx);
  await runProvisioner(shellLocalSpec({ command: 'echo single command' }), ctx);
  assert.deepEqual(ctx.lines(), ['exec m', 'plain m', 'single command']);
});

test('a failing command fails with its exit code and last lines', { timeout: 60_000 }, async () => {
  const error = await runProvisioner(
    shellLocalSpec({ index: 1, inline: ['echo before', 'exit 4'] }),
    recordingContext(undefined),
  ).catch((err: unknown) => err);
  assert.ok(error instanceof ProvisionerError);
  assert.equal(error.index, 1);
  assert.equal(error.exitCode, 4);
  assert.deepEqual(error.lastLines, ['before']);
  assert.match(error.message, /shell-local.*exited with code 4/);
});

test('timeout: a command running too long is killed and fails with its last lines', { timeout: 60_000 }, async () => {
  const error = await runProvisioner(
    // Long enough for a shell to start and print on a busy machine, so the last lines are known.
    shellLocalSpec({ index: 5, inline: ['echo started', 'sleep 60'], timeoutMs: 5000 }),
    recordingContext(undefined),
  ).catch((err: unknown) => err);
  assert.ok(error instanceof ProvisionerError);
  assert.equal(error.index, 5);
  assert.match(error.message, /shell-local\) timed out after 5 s/);
  assert.deepEqual(error.lastLines, ['started']);
});

test('a bad environment_vars entry is reported clearly', { timeout: 60_000 }, async () => {
  await assert.rejects(
    runProvisioner(shellLocalSpec({ inline: ['true'], environmentVars: ['NO_EQUALS'] }), recordingContext(undefined)),
    /environment_vars entry "NO_EQUALS" must look like NAME=value/,
  );
});

test('abort kills the local command and everything it started', { timeout: 60_000 }, async () => {
  const controller = new AbortController();
  const marker = join(dir, 'child-pid');
  const ctx = recordingContext(undefined, { signal: controller.signal, onOutput: () => controller.abort() });
  await assert.rejects(
    runProvisioner(shellLocalSpec({ inline: [`sleep 60 & echo $! > '${marker}'`, 'echo started', 'wait'] }), ctx),
    { name: 'AbortError' },
  );
  const pid = Number(readFileSync(marker, 'utf8'));
  // The process group was SIGKILLed before the promise settled: the child is gone (or a zombie
  // about to be reaped by init), never still sleeping.
  const state = existsSync(`/proc/${pid}/stat`) ? readFileSync(`/proc/${pid}/stat`, 'utf8').split(' ')[2] : 'gone';
  assert.ok(state === 'gone' || state === 'Z', `child state ${state}`);
});
