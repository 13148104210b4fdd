// The `shell-local` provisioner's keys: commands run on the machine that runs kiln.
import type { ProvisionerCommon, ShellLocalProvisionerSpec } from '../spec.js';
import type { FieldReader } from '../fields.js';
import { didYouMean } from '../suggest.js';
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

const SHELL_LOCAL_KEYS = [
  ...COMMON_KEYS,
  'inline', 'command', 'script', 'scripts', 'environment_vars', 'env', 'env_var_format',
  'execute_command', 'inline_shebang', 'only_on', 'tempfile_extension', 'use_linux_pathing', 'valid_exit_codes',
];

/** Packer's defaults for shell-local on Linux. The fields are filled in when it runs. */
export const SHELL_LOCAL_DEFAULTS = {
  executeCommand: ['/bin/sh', '-c', '{{.Vars}} {{.Script}}'],
  inlineShebang: '/bin/sh -e',
} as const;

const EXECUTE_COMMAND_FIELDS = ['Vars', 'Script', 'Command'] as const;

/** The operating systems `only_on` may name (Go's GOOS values Packer accepts). */
const OPERATING_SYSTEMS = ['darwin', 'freebsd', 'linux', 'openbsd', 'solaris', 'windows'];

export function readShellLocal(reader: FieldReader, common: ProvisionerCommon, ctx: ProvisionerContext): ShellLocalProvisionerSpec {
  reader.checkKeys(SHELL_LOCAL_KEYS, UNSUPPORTED_COMMON);
  const present: string[] = [];
  const inline = readInline(reader, present);
  const command = reader.string('command');
  if (reader.has('command')) present.push('command');
  const { scripts, present: scriptKeys } = readScripts(reader, ctx);
  requireOneOf(reader, ['inline', 'command', 'script', 'scripts'], [...present, ...scriptKeys]);
  if (reader.bool('use_linux_pathing')) {
    ctx.problems.add(
      reader.path('use_linux_pathing'),
      'use_linux_pathing turns Windows paths into paths of the Windows Subsystem for Linux; kiln runs on Linux, where there is nothing to turn (Packer itself refuses it there)',
      'remove it: the paths are already Linux paths',
    );
  }
  const executeCommand = reader.stringList('execute_command', { keepFields: EXECUTE_COMMAND_FIELDS });
  if (executeCommand !== undefined && executeCommand.length === 0) ctx.problems.add(reader.path('execute_command'), 'is an empty command', `the default is ${JSON.stringify(SHELL_LOCAL_DEFAULTS.executeCommand)}`);
  const onlyOn = reader.stringList('only_on');
  onlyOn?.forEach((os, i) => {
    if (!OPERATING_SYSTEMS.includes(os)) ctx.problems.add(`${reader.path('only_on')}[${i}]`, `"${os}" is not an operating system Packer knows`, didYouMean(os, OPERATING_SYSTEMS) ?? `use one of ${OPERATING_SYSTEMS.join(', ')}`);
  });
  const tempfileExtension = reader.string('tempfile_extension')?.replace(/^\./, '');
  return {
    type: 'shell-local',
    ...common,
    ...(inline ? { inline } : {}),
    ...(command !== undefined ? { command } : {}),
    scripts,
    environmentVars: readEnvironmentVars(reader),
    envVarFormat: readEnvVarFormat(reader, DEFAULT_ENV_VAR_FORMAT),
    executeCommand: executeCommand?.length ? executeCommand : [...SHELL_LOCAL_DEFAULTS.executeCommand],
    inlineShebang: reader.string('inline_shebang') ?? SHELL_LOCAL_DEFAULTS.inlineShebang,
    ...(tempfileExtension ? { tempfileExtension } : {}),
    ...(onlyOn?.length ? { onlyOn } : {}),
    validExitCodes: readExitCodes(reader),
  };
}
