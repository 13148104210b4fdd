// The shell and file provisioners over a real SSH connection (see test/ssh/targets.ts).
import { describe, test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { chmodSync, mkdirSync, mkdtempSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { runProvisioner, ProvisionerError } from '../../src/provision/index.js';
import type { Communicator } from '../../src/ssh/index.js';
import { connectTo, run, targets, type SshTarget } from '../ssh/targets.js';
import { fileSpec, recordingContext, shellSpec } from './specs.js';

for (const kind of targets) {
  describe(`provisioners against ${kind.name}`, { skip: kind.unavailable() }, () => {
    let target: SshTarget;
    let comm: Communicator;
    let remote: string;
    let local: string;
    let folderCount = 0;
    /** A fresh remote folder per test, so leftovers are visible. */
    const remoteFolder = async () => {
      const folder = `${remote}/f${(folderCount += 1)}`;
      await run(comm, `mkdir -p '${folder}'`);
      return folder;
    };

    before(async () => {
      target = await kind.start();
      comm = await connectTo(target);
      [remote] = await run(comm, 'mktemp -d');
      local = mkdtempSync(join(tmpdir(), 'kiln-provision-test-'));
    }, { timeout: 60_000 });
    after(async () => {
      if (comm && remote) await run(comm, `rm -rf '${remote}'`);
      comm?.close();
      await target?.stop();
      if (local) rmSync(local, { recursive: true, force: true });
    }, { timeout: 60_000 });

    test('shell inline: output tagged with index and stream, environment variables quoted, script removed', { timeout: 60_000 }, async () => {
      const folder = await remoteFolder();
      const ctx = recordingContext(comm);
      await runProvisioner(
        shellSpec({
          index: 4,
          remoteFolder: folder,
          inline: ['echo "name=$PACKER_BUILD_NAME type=$PACKER_BUILDER_TYPE"', 'echo "quote=$QUOTE"', 'echo problem >&2'],
          environmentVars: ["QUOTE=it's $HOME; `x`", 'EMPTY='],
        }),
        ctx,
      );
      // Order is guaranteed within a stream, not between stdout and stderr.
      assert.deepEqual(ctx.output.filter((o) => o.stream === 'stdout'), [
        { index: 4, stream: 'stdout', line: 'name=test-build type=scaleway' },
        { index: 4, stream: 'stdout', line: "quote=it's $HOME; `x`" },
      ]);
      assert.deepEqual(ctx.output.filter((o) => o.stream === 'stderr'), [{ index: 4, stream: 'stderr', line: 'problem' }]);
      assert.deepEqual(await run(comm, `ls -A '${folder}'`), [], 'the uploaded script was removed');
    });

    test('shell scripts run in order, each through execute_command with {{.Path}} and {{.Vars}}', { timeout: 60_000 }, async () => {
      const first = join(local, 'first.sh');
      const second = join(local, 'second.sh');
      writeFileSync(first, '#!/bin/sh\necho "first $1 $MODE"\n', { mode: 0o644 }); // not executable: chmod'd remotely
      writeFileSync(second, '#!/bin/sh\necho "second $1 $MODE"\n', { mode: 0o644 });
      const ctx = recordingContext(comm);
      await runProvisioner(
        shellSpec({
          scripts: [first, second],
          remoteFolder: await remoteFolder(),
          environmentVars: ['MODE=custom'],
          // The sudo idiom of many Packer templates: everything inside one quoted sh -c argument.
          executeCommand: "sh -c '{{ .Vars }} {{.Path}} arg'",
        }),
        ctx,
      );
      assert.deepEqual(ctx.lines(), ['first arg custom', 'second arg custom']);
    });

    test('shell skip_clean keeps the script at remote_path; use_env_var_file sources env_var_format lines; {{ .Path }} with spaces', { timeout: 60_000 }, async () => {
      const folder = await remoteFolder();
      const ctx = recordingContext(comm);
      await runProvisioner(
        shellSpec({
          inline: ['echo "$A|$B"'],
          remoteFolder: folder,
          remotePath: `${folder}/provision.sh`,
          skipClean: true,
          useEnvVarFile: true,
          envVarFormat: "export %s='%s'\n",
          environmentVars: ['A=1', 'B=two words'],
          executeCommand: '. {{ .EnvVarFile }} && sh {{- " " -}} {{ .Path }}',
        }),
        ctx,
      );
      assert.deepEqual(ctx.lines(), ['1|two words']);
      const left = await run(comm, `ls -A '${folder}'`);
      assert.ok(left.includes('provision.sh') && left.some((name) => /^varfile_\d+\.sh$/.test(name)), `kept: ${left.join(', ')}`);
    });

    test('shell: an exit code outside valid_exit_codes fails with the last output lines', { timeout: 60_000 }, async () => {
      const folder = await remoteFolder();
      const ctx = recordingContext(comm);
      // All on stderr: the order of lines is kept within a stream, not between stdout and stderr.
      const lines = Array.from({ length: 30 }, (_, i) => `echo line${i + 1} >&2`);
      const error = await runProvisioner(
        shellSpec({ index: 2, remoteFolder: folder, inline: [...lines, 'echo failing >&2', 'exit 3'] }),
        ctx,
      ).catch((err: unknown) => err);
      assert.ok(error instanceof ProvisionerError);
      assert.equal(error.index, 2);
      assert.equal(error.exitCode, 3);
      assert.equal(error.retryable, false);
      assert.equal(error.lastLines.length, 20);
      assert.equal(error.lastLines.at(-1), 'failing');
      assert.equal(error.lastLines.at(-2), 'line30');
      assert.match(error.message, /exited with code 3 \(valid: 0\)/);
      assert.deepEqual(await run(comm, `ls -A '${folder}'`), [], 'the script is removed after a failure too');
      await runProvisioner(shellSpec({ remoteFolder: folder, inline: ['exit 3'], validExitCodes: [0, 3] }), ctx);
    });

    test('shell: the inline shebang applies (/bin/sh -e stops at the first failing command)', { timeout: 60_000 }, async () => {
      const ctx = recordingContext(comm);
      await assert.rejects(
        runProvisioner(shellSpec({ remoteFolder: await remoteFolder(), inline: ['false', 'echo not reached'] }), ctx),
        (err: ProvisionerError) => err.exitCode === 1,
      );
      assert.deepEqual(ctx.lines(), []);
      await runProvisioner(
        shellSpec({ remoteFolder: await remoteFolder(), inline: ['false', 'echo reached'], inlineShebang: '/bin/sh' }),
        ctx,
      );
      assert.deepEqual(ctx.lines(), ['reached']);
    });

    test('shell: a connection dropped mid-script passes with expect_disconnect (then cleans up) and fails without', { timeout: 60_000 }, async () => {
      const folder = await remoteFolder();
      const other = await connectTo(target);
      const dropOnOutput = recordingContext(other, { onOutput: () => void target.dropConnections() });
      try {
        await runProvisioner(shellSpec({ remoteFolder: folder, inline: ['echo rebooting', 'exec sleep 30'], expectDisconnect: true }), dropOnOutput);
        assert.deepEqual(await run(other, `ls -A '${folder}'`), [], 'cleaned up after reconnecting');
        const error = await runProvisioner(
          shellSpec({ remoteFolder: folder, inline: ['echo rebooting', 'exec sleep 30'] }),
          dropOnOutput,
        ).catch((err: unknown) => err);
        assert.ok(error instanceof ProvisionerError);
        assert.equal(error.retryable, true);
        assert.match(error.message, /dropped.*expect_disconnect/);
      } finally {
        other.close();
      }
    });

    if (kind.canKillSession) {
      test('shell: a script that kills its own SSH session passes with expect_disconnect', { timeout: 60_000 }, async () => {
        const folder = await remoteFolder();
        const other = await connectTo(target);
        try {
          await runProvisioner(
            shellSpec({ remoteFolder: folder, inline: ['echo bye', 'kill -9 $PPID'], expectDisconnect: true }),
            recordingContext(other),
          );
          assert.deepEqual(await run(other, `ls -A '${folder}'`), [], 'cleaned up after reconnecting');
        } finally {
          other.close();
        }
      });
    }

    test('max_retries: a failing attempt is retried, and reported through onRetry', { timeout: 60_000 }, async () => {
      const folder = await remoteFolder();
      const retries: number[] = [];
      const flaky = shellSpec({
        remoteFolder: folder,
        maxRetries: 1,
        inline: [`if [ -e '${folder}/marker' ]; then echo second try; else touch '${folder}/marker'; exit 1; fi`],
      });
      const ctx = recordingContext(comm, { onRetry: (attempt) => retries.push(attempt) });
      await runProvisioner(flaky, ctx);
      assert.deepEqual(retries, [1]);
      assert.deepEqual(ctx.lines(), ['second try']);
      await run(comm, `rm '${folder}/marker'`);
      await assert.rejects(runProvisioner({ ...flaky, maxRetries: 0 }, recordingContext(comm)), ProvisionerError);
    });

    test('timeout: a provisioner running too long fails with a timeout error', { timeout: 60_000 }, async () => {
      const error = await runProvisioner(
        shellSpec({ remoteFolder: await remoteFolder(), inline: ['echo started', 'sleep 60'], timeoutMs: 300 }),
        recordingContext(comm),
      ).catch((err: unknown) => err);
      assert.ok(error instanceof ProvisionerError);
      assert.match(error.message, /timed out after 0.3 s/);
    });

    test('abort: an interrupted provisioner rejects with the abort reason, not a ProvisionerError', { timeout: 60_000 }, async () => {
      const controller = new AbortController();
      const ctx = recordingContext(comm, { signal: controller.signal, onOutput: () => controller.abort(new Error('interrupted by test')) });
      await assert.rejects(
        runProvisioner(shellSpec({ remoteFolder: await remoteFolder(), inline: ['echo started', 'sleep 60'], maxRetries: 3 }), ctx),
        /interrupted by test/,
      );
      const paused = new AbortController();
      paused.abort(new Error('interrupted while pausing'));
      await assert.rejects(
        runProvisioner(shellSpec({ inline: ['true'], pauseBeforeMs: 60_000 }), recordingContext(comm, { signal: paused.signal })),
        /interrupted while pausing/,
      );
    });

    test('file upload: files, directories with and without a trailing slash, modes kept', { timeout: 60_000 }, async () => {
      const folder = await remoteFolder();
      const tree = join(local, 'site');
      mkdirSync(join(tree, 'bin'), { recursive: true });
      writeFileSync(join(tree, 'index.html'), '<h1>hi</h1>\n');
      writeFileSync(join(tree, 'bin', 'tool'), '#!/bin/sh\n', { mode: 0o750 });
      chmodSync(join(tree, 'bin', 'tool'), 0o750);
      const motd = join(local, 'motd');
      writeFileSync(motd, 'welcome\n');
      const ctx = recordingContext(comm);
      await runProvisioner(fileSpec({ sources: [motd], destination: `${folder}/etc/motd` }), ctx);
      await runProvisioner(fileSpec({ sources: [motd, tree], destination: `${folder}/into/` }), ctx);
      await runProvisioner(fileSpec({ sources: [`${tree}/`], destination: `${folder}/contents` }), ctx);
      const listing = await run(comm, `cd '${folder}' && find . -type f | sort | xargs stat -c '%a %n'`);
      assert.deepEqual(listing, [
        '750 ./contents/bin/tool',
        '644 ./contents/index.html',
        '644 ./etc/motd',
        '644 ./into/motd',
        '750 ./into/site/bin/tool',
        '644 ./into/site/index.html',
      ]);
      assert.deepEqual(await run(comm, `cat '${folder}/etc/motd'`), ['welcome']);
    });

    test('file download: a file into a directory, a directory tree', { timeout: 60_000 }, async () => {
      const folder = await remoteFolder();
      await run(comm, `mkdir -p '${folder}/logs/app' && echo one > '${folder}/logs/app/1.log' && chmod 600 '${folder}/logs/app/1.log'`);
      const into = join(local, 'downloads') + '/';
      const ctx = recordingContext(comm);
      await runProvisioner(fileSpec({ direction: 'download', sources: [`${folder}/logs/app/1.log`], destination: into }), ctx);
      assert.equal(readFileSync(join(into, '1.log'), 'utf8'), 'one\n');
      await runProvisioner(fileSpec({ direction: 'download', sources: [`${folder}/logs`], destination: join(local, 'logs-copy') }), ctx);
      assert.equal(statSync(join(local, 'logs-copy', 'app', '1.log')).mode & 0o777, 0o600);
    });

    test('file: a missing source fails with a ProvisionerError naming it', { timeout: 60_000 }, async () => {
      await assert.rejects(
        runProvisioner(fileSpec({ index: 7, sources: [join(local, 'missing.txt')], destination: '/tmp/x' }), recordingContext(comm)),
        (err: ProvisionerError) => err.index === 7 && /missing\.txt does not exist/.test(err.message),
      );
    });
  });
}

test('shell and file provisioners without a communicator fail clearly', { timeout: 60_000 }, async () => {
  await assert.rejects(
    runProvisioner(shellSpec({ inline: ['true'] }), recordingContext(undefined)),
    (err: ProvisionerError) => err instanceof ProvisionerError && /communicator is "none"/.test(err.message),
  );
  await assert.rejects(runProvisioner(fileSpec({ sources: ['/etc/hostname'], destination: '/tmp/' }), recordingContext(undefined)), /communicator is "none"/);
});
