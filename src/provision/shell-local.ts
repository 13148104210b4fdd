// The `shell-local` provisioner: runs on this machine with `/bin/sh -c "{{.Vars}} <script>"`,
// like Packer's default execute_command, with the same environment rules as `shell`.
import { spawn } from 'node:child_process';
import { access, constants, mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { basename, join } from 'node:path';
import type { ShellLocalProvisionerSpec } from '../template/spec.js';
import { abortError, LineSplitter, shellQuote } from '../ssh/index.js';
import { flattenEnvVars, OutputTail, ProvisionerError, type ProvisionContext } from './context.js';
import { writeInlineScript } from './shell.js';

const inlineShebang = '/bin/sh -e';

export async function runShellLocal(spec: ShellLocalProvisionerSpec, ctx: ProvisionContext): Promise<void> {
  const where = `provisioner ${spec.index} (shell-local)`;
  const vars = flattenEnvVars(spec.environmentVars, ctx, where);
  const tail = new OutputTail(spec.index, ctx.onOutput);
  const scratch = await mkdtemp(join(tmpdir(), 'kiln-shell-local-'));
  try {
    const inline = spec.inline ?? (spec.command !== undefined ? [spec.command] : undefined);
    const scripts = inline ? [await writeInlineScript(scratch, inlineShebang, inline)] : spec.scripts;
    for (const script of scripts) {
      const name = inline ? 'inline commands' : basename(script);
      // Packer runs the script itself (its shebang decides the interpreter); a script without
      // the execute bit is run by /bin/sh rather than failing with "permission denied".
      const executable = await access(script, constants.X_OK).then(
        () => true,
        () => false,
      );
      const command = `${vars} ${executable ? '' : '/bin/sh '}${shellQuote(script)}`;
      const result = await runLocal(command, ctx.signal, tail.onLine);
      if (result.exitCode !== 0) {
        const how = result.exitCode === null ? `killed by ${result.signal}` : `exited with code ${result.exitCode}`;
        throw new ProvisionerError(`${where}: ${name}: ${how}`, {
          index: spec.index,
          exitCode: result.exitCode,
          lastLines: tail.last(),
        });
      }
    }
  } finally {
    await rm(scratch, { recursive: true, force: true });
  }
}

/** Runs `/bin/sh -c command` in its own process group, so abort kills everything it started. */
function runLocal(
  command: string,
  signal: AbortSignal,
  onLine: (stream: 'stdout' | 'stderr', line: string) => void,
): Promise<{ exitCode: number | null; signal: string | null }> {
  return new Promise((resolve, reject) => {
    if (signal.aborted) return reject(abortError(signal));
    const child = spawn('/bin/sh', ['-c', command], { stdio: ['ignore', 'pipe', 'pipe'], detached: true });
    const stdout = new LineSplitter((line) => onLine('stdout', line));
    const stderr = new LineSplitter((line) => onLine('stderr', line));
    child.stdout.on('data', (chunk: Buffer) => stdout.push(chunk));
    child.stderr.on('data', (chunk: Buffer) => stderr.push(chunk));
    const onAbort = () => {
      try {
        process.kill(-child.pid!, 'SIGKILL');
      } catch {
        /* already gone */
      }
    };
    signal.addEventListener('abort', onAbort, { once: true });
    child.on('error', (err) => {
      signal.removeEventListener('abort', onAbort);
      reject(err);
    });
    child.on('close', (code, exitSignal) => {
      signal.removeEventListener('abort', onAbort);
      stdout.flush();
      stderr.flush();
      if (signal.aborted) return reject(abortError(signal));
      resolve({ exitCode: code, signal: exitSignal });
    });
  });
}
