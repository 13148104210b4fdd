// The `shell-local` provisioner: runs on this machine with `/bin/sh -c "{{.Vars}} <script>"`,
// like Packer's default execute_command, with the same environment rules as `shell`.
import { access, constants, mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { basename, join } from 'node:path';
import type { ShellLocalProvisionerSpec } from '../template/spec.js';
import { shellQuote } from '../ssh/index.js';
import { flattenEnvVars, OutputTail, ProvisionerError, provisionerLabel, type ProvisionContext } from './context.js';
import { writeInlineScript } from './shell.js';
import { runLocalProcess } from './local-process.js';

const inlineShebang = '/bin/sh -e';

export async function runShellLocal(spec: ShellLocalProvisionerSpec, ctx: ProvisionContext): Promise<void> {
  const where = provisionerLabel(spec);
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
      const result = await runLocalProcess(['/bin/sh', '-c', command], { signal: ctx.signal, onLine: tail.onLine });
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

