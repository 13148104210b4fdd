// The `shell-local` provisioner: runs on this machine through `execute_command` (Packer's default
// `["/bin/sh", "-c", "{{.Vars}} {{.Script}}"]`), each element a template with `{{.Vars}}`,
// `{{.Script}}` and `{{.Command}}`, the first the program; with the same environment rules as `shell`.
import { access, constants, mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { basename, join } from 'node:path';
import type { ShellLocalProvisionerSpec } from '../template/spec.js';
import { renderFields } from '../template/functions.js';
import { shellQuote } from '../ssh/index.js';
import { flattenEnvVars, OutputTail, ProvisionerError, provisionerLabel, type ProvisionContext } from './context.js';
import { writeInlineScript } from './shell.js';
import { runLocalProcess } from './local-process.js';

const DEFAULT_EXECUTE_COMMAND = ['/bin/sh', '-c', '{{.Vars}} {{.Script}}'];

// Node's names for the operating systems `only_on` names as Go does.
const GO_OS: Partial<Record<NodeJS.Platform, string>> = { win32: 'windows', sunos: 'solaris' };

export async function runShellLocal(spec: ShellLocalProvisionerSpec, ctx: ProvisionContext): Promise<void> {
  const where = provisionerLabel(spec);
  const os = GO_OS[process.platform] ?? process.platform;
  if (spec.onlyOn && !spec.onlyOn.includes(os)) {
    ctx.onOutput({ index: spec.index, stream: 'stdout', line: `skipped: only_on is ${spec.onlyOn.join(', ')} and this machine runs ${os}` });
    return;
  }
  const vars = flattenEnvVars(spec.environmentVars, ctx, where, spec.envVarFormat);
  const tail = new OutputTail(spec.index, ctx.onOutput);
  const scratch = await mkdtemp(join(tmpdir(), 'kiln-shell-local-'));
  try {
    const inline = spec.inline ?? (spec.command !== undefined ? [spec.command] : undefined);
    const inlineName = `inline${spec.tempfileExtension ? `.${spec.tempfileExtension}` : ''}`;
    const scripts = inline ? [await writeInlineScript(scratch, spec.inlineShebang, inline, inlineName)] : spec.scripts;
    const isDefault = spec.executeCommand.join('\0') === DEFAULT_EXECUTE_COMMAND.join('\0');
    for (const script of scripts) {
      const name = inline ? 'inline commands' : basename(script);
      // With the default execute_command, a script without the execute bit is run by /bin/sh
      // rather than failing with "permission denied" (its shebang decides otherwise).
      const executable = await access(script, constants.X_OK).then(
        () => true,
        () => false,
      );
      const scriptField = isDefault && !executable ? `/bin/sh ${shellQuote(script)}` : script;
      const argv = spec.executeCommand.map((part) => renderFields(part, { Vars: vars, Script: scriptField, Command: scriptField }));
      const result = await runLocalProcess(argv, { signal: ctx.signal, onLine: tail.onLine });
      if (result.exitCode === null || !spec.validExitCodes.includes(result.exitCode)) {
        const how = result.exitCode === null ? `killed by ${result.signal}` : `exited with code ${result.exitCode} (valid: ${spec.validExitCodes.join(', ')})`;
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

