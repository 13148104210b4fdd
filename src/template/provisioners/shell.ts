// The `shell` provisioner's keys, as Packer's documentation lists them, and their defaults.
import type { ProvisionerCommon, ShellProvisionerSpec } from '../spec.js';
import type { FieldReader } from '../fields.js';
import {
  COMMON_KEYS,
  DEFAULT_ENV_VAR_FORMAT,
  UNSUPPORTED_COMMON,
  readEnvironmentVars,
  readEnvVarFormat,
  readExitCodes,
  readInline,
  readScripts,
  requireOneOf,
  type ProvisionerContext,
} from './common.js';

const SHELL_KEYS = [
  ...COMMON_KEYS,
  'inline', 'script', 'scripts', 'binary', 'valid_exit_codes',
  'environment_vars', 'env', 'env_var_format', 'use_env_var_file',
  'execute_command', 'expect_disconnect', 'inline_shebang',
  'remote_folder', 'remote_file', 'remote_path', 'skip_clean', 'start_retry_timeout', 'pause_after',
];

/** Packer's defaults for the shell provisioner. The fields are filled in when it runs. */
export const SHELL_DEFAULTS = {
  executeCommand: 'chmod +x {{.Path}}; {{.Vars}} {{.Path}}',
  /** With use_env_var_file. */
  executeCommandWithEnvVarFile: 'chmod +x {{.Path}}; . {{.EnvVarFile}} && {{.Path}}',
  envVarFileFormat: "export %s='%s'\n",
  inlineShebang: '/bin/sh -e',
  remoteFolder: '/tmp',
  startRetryTimeoutMs: 5 * 60_000,
} as const;

const EXECUTE_COMMAND_FIELDS = ['Path', 'Vars', 'EnvVarFile'] as const;

export function readShell(reader: FieldReader, common: ProvisionerCommon, ctx: ProvisionerContext): ShellProvisionerSpec {
  reader.checkKeys(SHELL_KEYS, UNSUPPORTED_COMMON);
  const present: string[] = [];
  const inline = readInline(reader, present);
  const { scripts, present: scriptKeys } = readScripts(reader, ctx);
  requireOneOf(reader, ['inline', 'script', 'scripts'], [...present, ...scriptKeys]);
  const useEnvVarFile = reader.bool('use_env_var_file') ?? false;
  const defaultCommand = useEnvVarFile ? SHELL_DEFAULTS.executeCommandWithEnvVarFile : SHELL_DEFAULTS.executeCommand;
  const executeCommand = reader.string('execute_command', { keepFields: EXECUTE_COMMAND_FIELDS }) ?? defaultCommand;
  if (reader.has('execute_command') && !executeCommand.includes('{{.Path}}')) {
    ctx.problems.add(reader.path('execute_command'), 'does not run the script: it has no {{.Path}} (or {{ .Path }})', `the default is "${defaultCommand}"`);
  }
  const remoteFolder = reader.string('remote_folder') ?? SHELL_DEFAULTS.remoteFolder;
  const remoteFile = reader.string('remote_file');
  if (remoteFile?.includes('/')) ctx.problems.add(reader.path('remote_file'), `"${remoteFile}" is a path, not a file name`, 'set remote_path for a full path, or remote_folder for the directory');
  const remotePath = reader.string('remote_path') ?? (remoteFile !== undefined ? `${remoteFolder}/${remoteFile}` : undefined);
  for (const [key, path] of [['remote_folder', remoteFolder], ['remote_path', remotePath]] as const) {
    if (path !== undefined && reader.has(key) && !path.startsWith('/')) ctx.problems.add(reader.path(key), `"${path}" is not an absolute path on the server`, key === 'remote_folder' ? 'for example "/tmp"' : 'for example "/tmp/provision.sh"');
  }
  const inlineShebang = reader.string('inline_shebang');
  return {
    type: 'shell',
    ...common,
    ...(inline ? { inline } : {}),
    scripts,
    environmentVars: readEnvironmentVars(reader),
    envVarFormat: readEnvVarFormat(reader, useEnvVarFile ? SHELL_DEFAULTS.envVarFileFormat : DEFAULT_ENV_VAR_FORMAT),
    useEnvVarFile,
    executeCommand,
    inlineShebang: inlineShebang ?? SHELL_DEFAULTS.inlineShebang,
    inlineShebangSet: inlineShebang !== undefined,
    remoteFolder,
    ...(remotePath !== undefined ? { remotePath } : {}),
    binary: reader.bool('binary') ?? false,
    skipClean: reader.bool('skip_clean') ?? false,
    startRetryTimeoutMs: reader.duration('start_retry_timeout') || SHELL_DEFAULTS.startRetryTimeoutMs,
    pauseAfterMs: reader.duration('pause_after') ?? 0,
    expectDisconnect: reader.bool('expect_disconnect') ?? false,
    validExitCodes: readExitCodes(reader),
  };
}
