// The `shell` provisioner's keys, as Packer's documentation lists them, and their defaults.
import type { ProvisionerCommon, ShellProvisionerSpec } from '../spec.js';
import type { FieldReader } from '../fields.js';
import { COMMON_KEYS, UNSUPPORTED_COMMON, readEnvironmentVars, readExitCodes, readInline, readScripts, requireOneOf, type ProvisionerContext } from './common.js';

const SHELL_KEYS = [...COMMON_KEYS, 'inline', 'script', 'scripts', 'environment_vars', 'execute_command', 'inline_shebang', 'remote_folder', 'expect_disconnect', 'valid_exit_codes'];
const UNSUPPORTED_SHELL: Record<string, string> = {
  ...UNSUPPORTED_COMMON,
  binary: 'kiln uploads scripts as text',
  remote_path: 'kiln names the uploaded script itself; set remote_folder',
  remote_file: 'kiln names the uploaded script itself; set remote_folder',
  skip_clean: 'kiln always removes the uploaded script',
  start_retry_timeout: 'use max_retries',
  use_env_var_file: 'environment_vars are passed on the command line ({{.Vars}})',
  env_var_format: 'environment_vars are passed as NAME=\'value\'',
  pause_after: 'use pause_before on the next provisioner',
};

/** Packer's defaults for the shell provisioner. `{{.Path}}` and `{{.Vars}}` are filled in when it runs. */
export const SHELL_DEFAULTS = {
  executeCommand: 'chmod +x {{.Path}}; {{.Vars}} {{.Path}}',
  inlineShebang: '/bin/sh -e',
  remoteFolder: '/tmp',
} as const;

const EXECUTE_COMMAND_FIELDS = ['Path', 'Vars'] as const;

export function readShell(reader: FieldReader, common: ProvisionerCommon, ctx: ProvisionerContext): ShellProvisionerSpec {
  reader.checkKeys(SHELL_KEYS, UNSUPPORTED_SHELL);
  const present: string[] = [];
  const inline = readInline(reader, present);
  const { scripts, present: scriptKeys } = readScripts(reader, ctx);
  requireOneOf(reader, ['inline', 'script', 'scripts'], [...present, ...scriptKeys]);
  const executeCommand = reader.string('execute_command', { keepFields: EXECUTE_COMMAND_FIELDS }) ?? SHELL_DEFAULTS.executeCommand;
  if (!executeCommand.includes('{{.Path}}')) {
    ctx.problems.add(reader.path('execute_command'), 'does not run the script: it has no {{.Path}}', `the default is "${SHELL_DEFAULTS.executeCommand}"`);
  }
  const remoteFolder = reader.string('remote_folder') ?? SHELL_DEFAULTS.remoteFolder;
  if (!remoteFolder.startsWith('/')) ctx.problems.add(reader.path('remote_folder'), `"${remoteFolder}" is not an absolute path on the server`, 'for example "/tmp"');
  const validExitCodes = readExitCodes(reader);
  return {
    type: 'shell',
    ...common,
    ...(inline ? { inline } : {}),
    scripts,
    environmentVars: readEnvironmentVars(reader),
    executeCommand,
    inlineShebang: reader.string('inline_shebang') ?? SHELL_DEFAULTS.inlineShebang,
    remoteFolder,
    expectDisconnect: reader.bool('expect_disconnect') ?? false,
    validExitCodes,
  };
}

