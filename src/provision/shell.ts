// The `shell` provisioner, as Packer runs it: each script (inline commands become one script
// with the inline shebang) is uploaded to `remote_path` (by default `<remote_folder>/script_<n>.sh`)
// with mode 0755, run through `execute_command` with `{{.Path}}`, `{{.Vars}}` and
// `{{.EnvVarFile}}`, then removed (unless `skip_clean`). Uploading and starting a script is tried
// again until `start_retry_timeout` (a server that reboots); a script's own failure is not.
import { randomInt } from 'node:crypto';
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { basename, join, posix } from 'node:path';
import type { ShellProvisionerSpec } from '../template/spec.js';
import { renderFields } from '../template/functions.js';
import { backoffDelay } from '../shared/backoff.js';
import { shellQuote, sleep, SshConnectError, SshDisconnectError, type Communicator } from '../ssh/index.js';
import { flattenEnvVars, OutputTail, ProvisionerError, provisionerLabel, type ProvisionContext } from './context.js';

/** Writes inline commands as a script file; returns its path inside `dir`. A null shebang writes none. */
export async function writeInlineScript(dir: string, shebang: string | null, commands: string[], name = 'inline.sh'): Promise<string> {
  const path = join(dir, name);
  await writeFile(path, `${shebang === null ? '' : `#!${shebang}\n`}${commands.join('\n')}\n`, { mode: 0o755 });
  return path;
}

/** Packer's inline script: its shebang, unless the commands bring their own and the template set none. */
function inlineShebang(spec: ShellProvisionerSpec, inline: string[]): string | null {
  return spec.inlineShebangSet || !inline.join('\n').startsWith('#!') ? spec.inlineShebang : null;
}

// Between two tries at uploading and starting a script: 2 s, growing to 30 s.
const START_RETRY = { attempts: Number.MAX_SAFE_INTEGER, initialMs: 2000, factor: 1.5, maxMs: 30_000, jitter: 0.2, maxTotalMs: Number.MAX_SAFE_INTEGER };

export async function runShell(spec: ShellProvisionerSpec, ctx: ProvisionContext, communicator: Communicator): Promise<void> {
  const where = provisionerLabel(spec);
  const vars = flattenEnvVars(spec.environmentVars, ctx, where, spec.envVarFormat);
  const tail = new OutputTail(spec.index, ctx.onOutput);
  const scratch = await mkdtemp(join(tmpdir(), 'kiln-shell-'));
  const retry = startRetry(spec, ctx, tail);
  try {
    const scripts = spec.inline ? [await writeInlineScript(scratch, inlineShebang(spec, spec.inline), spec.inline)] : spec.scripts;
    const remotePath = spec.remotePath ?? posix.join(spec.remoteFolder, `script_${randomInt(10_000)}.sh`);
    let envVarFile = '';
    if (spec.useEnvVarFile) {
      envVarFile = posix.join(spec.remoteFolder, `varfile_${randomInt(10_000)}.sh`);
      const local = join(scratch, 'varfile.sh');
      await writeFile(local, vars);
      await retry(`uploading ${envVarFile}`, () => communicator.upload(local, envVarFile, { signal: ctx.signal, mode: 0o600 }));
    }
    for (const script of scripts) {
      const name = spec.inline ? 'inline commands' : basename(script);
      const fail = (message: string, exitCode: number | null, retryable: boolean) =>
        new ProvisionerError(`${where}: ${name}: ${message}`, { index: spec.index, exitCode, lastLines: tail.last(), retryable });
      const upload = spec.binary || spec.inline ? script : await withUnixLineEnds(script, scratch);
      // Unquoted, as Packer does: templates embed {{.Path}} inside their own quotes
      // (`sudo sh -c '{{.Vars}} {{.Path}}'`), and the path is remote_folder + script_<n>.sh.
      const command = renderFields(spec.executeCommand, { Path: remotePath, Vars: vars, EnvVarFile: envVarFile });
      let failure: ProvisionerError | undefined;
      let dropped = false;
      try {
        const result = await retry(`starting ${name}`, async () => {
          // Made executable by the upload itself (SFTP), not by one more command over SSH.
          await communicator.upload(upload, remotePath, { signal: ctx.signal, mode: 0o755 });
          return communicator.exec(command, { signal: ctx.signal, onLine: tail.onLine, expectDisconnect: spec.expectDisconnect });
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
      if (!spec.skipClean) {
        try {
          await mustSucceed(communicator, `rm -f ${shellQuote(remotePath)}`, ctx.signal, `removing ${remotePath}`);
        } catch (err) {
          if (ctx.signal.aborted) throw err;
          if (!failure) throw fail((err as Error).message, null, dropped || err instanceof SshDisconnectError || err instanceof SshConnectError);
        }
      }
      if (failure) throw failure;
    }
    if (envVarFile && !spec.skipClean) await mustSucceed(communicator, `rm -f ${shellQuote(envVarFile)}`, ctx.signal, `removing ${envVarFile}`);
    if (spec.pauseAfterMs > 0) await sleep(spec.pauseAfterMs, ctx.signal);
  } finally {
    await rm(scratch, { recursive: true, force: true });
  }
}

/**
 * Packer's start retry: an upload that fails, or a command that cannot start because the server
 * does not answer, is tried again until `start_retry_timeout` has passed since the first try
 * (a script that runs and fails is not). Each new try says why on the provisioner's stderr.
 */
function startRetry(spec: ShellProvisionerSpec, ctx: ProvisionContext, tail: OutputTail) {
  return async <T>(what: string, attempt: () => Promise<T>): Promise<T> => {
    const deadline = Date.now() + spec.startRetryTimeoutMs;
    for (let tries = 1; ; tries += 1) {
      try {
        return await attempt();
      } catch (err) {
        const startFailure = !(err instanceof SshDisconnectError);
        const wait = backoffDelay(START_RETRY, tries);
        if (ctx.signal.aborted || !startFailure || Date.now() + wait > deadline) throw err;
        tail.onLine('stderr', `kiln: ${what} failed (${(err as Error).message}); trying again in ${Math.round(wait / 100) / 10} s, until start_retry_timeout runs out`);
        await sleep(wait, ctx.signal);
      }
    }
  };
}

/** Packer's UnixReader: a script's CRLF line ends become LF (a copy is uploaded when it has any). */
async function withUnixLineEnds(script: string, scratch: string): Promise<string> {
  const text = await readFile(script);
  if (!text.includes('\r\n')) return script;
  const copy = join(await mkdtemp(join(scratch, 'unix-')), basename(script));
  await writeFile(copy, text.toString('latin1').replaceAll('\r\n', '\n'), { encoding: 'latin1', mode: 0o755 });
  return copy;
}

async function mustSucceed(communicator: Communicator, command: string, signal: AbortSignal, what: string): Promise<void> {
  const output: string[] = [];
  const result = await communicator.exec(command, { signal, onLine: (_stream, line) => output.push(line) });
  if (result.exitCode !== 0) {
    throw new Error(`${what} failed (exit ${result.exitCode ?? result.signal}): ${output.slice(-3).join(' / ')}`);
  }
}
