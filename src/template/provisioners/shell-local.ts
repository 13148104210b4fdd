// The `shell-local` provisioner's keys: commands run on the machine that runs kiln.
import type { ProvisionerCommon, ShellLocalProvisionerSpec } from '../spec.js';
import type { FieldReader } from '../fields.js';
import { COMMON_KEYS, UNSUPPORTED_COMMON, readEnvironmentVars, readInline, readScripts, requireOneOf, type ProvisionerContext } from './common.js';

const SHELL_LOCAL_KEYS = [...COMMON_KEYS, 'inline', 'command', 'script', 'scripts', 'environment_vars'];
const UNSUPPORTED_SHELL_LOCAL: Record<string, string> = {
  ...UNSUPPORTED_COMMON,
  execute_command: 'kiln runs shell-local commands with /bin/sh',
  inline_shebang: 'kiln runs shell-local commands with /bin/sh',
  only_on: 'use only/except with builder names',
  use_linux_pathing: 'kiln runs on Linux',
  valid_exit_codes: 'shell-local succeeds on exit code 0',
  env_var_format: 'environment_vars are set in the command\'s environment',
  tempfile_extension: 'kiln runs shell-local commands with /bin/sh',
};

export function readShellLocal(reader: FieldReader, common: ProvisionerCommon, ctx: ProvisionerContext): ShellLocalProvisionerSpec {
  reader.checkKeys(SHELL_LOCAL_KEYS, UNSUPPORTED_SHELL_LOCAL);
  const present: string[] = [];
  const inline = readInline(reader, present);
  const command = reader.string('command');
  if (command !== undefined) present.push('command');
  const { scripts, present: scriptKeys } = readScripts(reader, ctx);
  requireOneOf(reader, ['inline', 'command', 'script', 'scripts'], [...present, ...scriptKeys]);
  return {
    type: 'shell-local',
    ...common,
    ...(inline ? { inline } : {}),
    ...(command !== undefined ? { command } : {}),
    scripts,
    environmentVars: readEnvironmentVars(reader),
  };
}
