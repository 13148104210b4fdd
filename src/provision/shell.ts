// The `shell` provisioner, as Packer runs it: each script (inline commands become one script
// with the inline shebang) is uploaded to `<remote_folder>/script_<n>.sh` with mode 0755,
// run through `execute_command` with `{{.Path}}` and `{{.Vars}}`, then removed.
import { randomInt } from 'node:crypto';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { basename, join, posix } from 'node:path';
import type { ShellProvisionerSpec } from '../template/spec.js';
import { shellQuote, SshConnectError, SshDisconnectError, type Communicator } from '../ssh/index.js';
import { flattenEnvVars, OutputTail, ProvisionerError, provisionerLabel, renderCommand, type ProvisionContext } from './context.js';

/** Writes inline commands as a script file; returns its path inside `dir`. */
export async function writeInlineScript(dir: string, shebang: string, commands: string[]): Promise<string> {
  const path = join(dir, 'inline.sh');
  await writeFile(path, `#!${shebang}\n${commands.join('\n')}\n`, { mode: 0o755 });
  return path;
}

export async function runShell(spec: ShellProvisionerSpec, ctx: ProvisionContext, communicator: Communicator): Promise<void> {
  const where = provisionerLabel(spec);
  const vars = flattenEnvVars(spec.environmentVars, ctx, where);
  const tail = new OutputTail(spec.index, ctx.onOutput);
  const scratch = await mkdtemp(join(tmpdir(), 'kiln-shell-'));
  try {
    const scripts = spec.inline ? [await writeInlineScript(scratch, spec.inlineShebang, spec.inline)] : spec.scripts;
    const remotePath = posix.join(spec.remoteFolder, `script_${randomInt(10_000)}.sh`);
    for (const script of scripts) {
      const name = spec.inline ? 'inline commands' : basename(script);
      const fail = (message: string, exitCode: number | null, retryable: boolean) =>
        new ProvisionerError(`${where}: ${name}: ${message}`, { index: spec.index, exitCode, lastLines: tail.last(), retryable });
      let failure: ProvisionerError | undefined;
      let dropped = false;
      try {
        // Made executable by the upload itself (SFTP), not by one more command over SSH.
        await communicator.upload(script, remotePath, { signal: ctx.signal, mode: 0o755 });
        // Unquoted, as Packer does: templates embed {{.Path}} inside their own quotes
        // (`sudo sh -c '{{.Vars}} {{.Path}}'`), and the path is remote_folder + script_<n>.sh.
        const command = renderCommand(spec.executeCommand, { Path: remotePath, Vars: vars });
        const result = await communicator.exec(command, {
          signal: ctx.signal,
          onLine: tail.onLine,
          expectDisconnect: spec.expectDisconnect,
        });
        dropped = result.disconnected;
        if (result.disconnected) {
          // expect_disconnect: the connection dropping is how this script ends (a reboot, say).
        } else if (result.exitCode === null) {
          failure = fail(result.signal ? `killed by ${result.signal}` : 'ended without an exit status', null, false);
        } else if (!spec.validExitCodes.includes(result.exitCode)) {
          failure = fail(
            `exited with code ${result.exitCode} (valid: ${spec.validExitCodes.join(', ')}). ` +
              'Fix the script, or list the code in valid_exit_codes if it means success.',
            result.exitCode,
            false,
          );
        }
      } catch (err) {
        if (ctx.signal.aborted) throw err;
        throw fail((err as Error).message, null, err instanceof SshDisconnectError || err instanceof SshConnectError);
      }
      // Remove the script like Packer does (after an expected disconnect this reconnects first),
      // and also after a failure, where a cleanup problem must not hide the script's own error.
      try {
        await mustSucceed(communicator, `rm -f ${shellQuote(remotePath)}`, ctx.signal, `removing ${remotePath}`);
      } catch (err) {
        if (ctx.signal.aborted) throw err;
        if (!failure) throw fail((err as Error).message, null, dropped || err instanceof SshDisconnectError || err instanceof SshConnectError);
      }
      if (failure) throw failure;
    }
  } finally {
    await rm(scratch, { recursive: true, force: true });
  }
}

async function mustSucceed(communicator: Communicator, command: string, signal: AbortSignal, what: string): Promise<void> {
  const output: string[] = [];
  const result = await communicator.exec(command, { signal, onLine: (_stream, line) => output.push(line) });
  if (result.exitCode !== 0) {
    throw new Error(`${what} failed (exit ${result.exitCode ?? result.signal}): ${output.slice(-3).join(' / ')}`);
  }
}
