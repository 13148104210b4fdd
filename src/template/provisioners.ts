// Provisioners as Packer's JSON templates write them: shell, file and shell-local, with the
// common keys only/except, pause_before, max_retries, timeout and continue_on_error, and Packer's
// defaults. ansible and ansible-local are read by their own modules (ansible.ts, ansible-local.ts).
import { statSync } from 'node:fs';
import type { FileProvisionerSpec, ProvisionerCommon, ProvisionerSpec, ShellLocalProvisionerSpec, ShellProvisionerSpec } from './spec.js';
import { FieldReader, isObject, describeType, type FieldContext } from './fields.js';
import { resolveLocalPath } from './paths.js';
import { didYouMean } from './suggest.js';
import { readAnsible } from './ansible.js';
import { readAnsibleLocal } from './ansible-local.js';

export const PROVISIONER_TYPES = ['shell', 'file', 'shell-local', 'ansible', 'ansible-local'] as const;

/** The provisioners that run over the build's SSH connection (or, for ansible, connect as it does). */
const NEEDS_SSH: ReadonlySet<string> = new Set(['shell', 'file', 'ansible', 'ansible-local']);

const COMMON_KEYS = ['type', 'only', 'except', 'pause_before', 'max_retries', 'timeout', 'continue_on_error'] as const;
const SHELL_KEYS = [...COMMON_KEYS, 'inline', 'script', 'scripts', 'environment_vars', 'execute_command', 'inline_shebang', 'remote_folder', 'expect_disconnect', 'valid_exit_codes'];
const FILE_KEYS = [...COMMON_KEYS, 'source', 'sources', 'destination', 'direction'];
const SHELL_LOCAL_KEYS = [...COMMON_KEYS, 'inline', 'command', 'script', 'scripts', 'environment_vars'];

const UNSUPPORTED_COMMON: Record<string, string> = {
  override: 'write a separate provisioner restricted with "only"',
};
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
const UNSUPPORTED_FILE: Record<string, string> = { ...UNSUPPORTED_COMMON, generated: 'sources must exist when the template is checked', content: 'write the content to a file and upload it' };
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

/** Packer's defaults for the shell provisioner. `{{.Path}}` and `{{.Vars}}` are filled in when it runs. */
export const SHELL_DEFAULTS = {
  executeCommand: 'chmod +x {{.Path}}; {{.Vars}} {{.Path}}',
  inlineShebang: '/bin/sh -e',
  remoteFolder: '/tmp',
  validExitCodes: [0],
} as const;

const EXECUTE_COMMAND_FIELDS = ['Path', 'Vars'] as const;

export interface ProvisionerBuild {
  name: string;
  communicator: 'ssh' | 'none';
}

export interface ProvisionerContext extends FieldContext {
  templateDir: string;
  /** For `~/` in paths: $HOME of the given environment. */
  home: string;
  /** All builder names of the template, for only/except checks. */
  builderNames: readonly string[];
}

/** True when provisioner `raw` applies to the build named `buildName` (only/except). Malformed → true (reported elsewhere). */
export function appliesTo(raw: unknown, buildName: string): boolean {
  if (!isObject(raw)) return true;
  const only = Array.isArray(raw.only) ? raw.only : undefined;
  const except = Array.isArray(raw.except) ? raw.except : undefined;
  if (only && !only.includes(buildName)) return false;
  if (except && except.includes(buildName)) return false;
  return true;
}

/** Checks the parts of the provisioners list that do not depend on a build: its shape, types, only/except.
 *  `pathOf` names item i in problems (the error-cleanup-provisioner is checked as a one-item list). */
export function checkProvisionerList(raw: unknown, ctx: ProvisionerContext, pathOf = (i: number) => `provisioners[${i}]`): unknown[] {
  if (raw === undefined || raw === null) return [];
  if (!Array.isArray(raw)) {
    ctx.problems.add('provisioners', `must be a list of provisioners, not ${describeType(raw)}`, 'write "provisioners": [{"type": "shell", "inline": ["…"]}]');
    return [];
  }
  raw.forEach((item, index) => {
    const path = pathOf(index);
    if (!isObject(item)) {
      ctx.problems.add(path, `must be an object with a "type", not ${describeType(item)}`);
      return;
    }
    if (item.type === undefined) ctx.problems.add(`${path}.type`, 'a provisioner needs a type', `one of ${PROVISIONER_TYPES.join(', ')}`);
    else if (typeof item.type !== 'string' || !(PROVISIONER_TYPES as readonly string[]).includes(item.type)) {
      const type = String(item.type);
      ctx.problems.add(`${path}.type`, `the provisioner type "${type}" is not supported by kiln`, didYouMean(type, PROVISIONER_TYPES) ?? `kiln has ${PROVISIONER_TYPES.join(', ')}`);
    }
    for (const key of ['only', 'except'] as const) {
      if (item[key] === undefined || item[key] === null) continue;
      if (!Array.isArray(item[key]) || !(item[key] as unknown[]).every((name) => typeof name === 'string')) {
        ctx.problems.add(`${path}.${key}`, `must be a list of builder names, not ${describeType(item[key])}`, `write "${key}": ["${ctx.builderNames[0] ?? 'scaleway'}"]`);
        continue;
      }
      (item[key] as string[]).forEach((name, i) => {
        if (!ctx.builderNames.includes(name)) {
          ctx.problems.add(`${path}.${key}[${i}]`, `there is no builder named "${name}"`, didYouMean(name, ctx.builderNames) ?? `the builders are named ${ctx.builderNames.map((n) => `"${n}"`).join(', ')}`);
        }
      });
    }
    if (item.only !== undefined && item.except !== undefined) {
      ctx.problems.add(path, 'only one of "only" and "except" may be set', 'keep the one that is shorter to read');
    }
  });
  return raw;
}

/** Reads provisioner `index` for one build (template functions see that build's name). */
export function readProvisioner(raw: unknown, index: number, build: ProvisionerBuild, ctx: ProvisionerContext, path = `provisioners[${index}]`): ProvisionerSpec | undefined {
  if (!isObject(raw) || typeof raw.type !== 'string') return undefined;
  const reader = new FieldReader(raw, path, ctx);
  const common: ProvisionerCommon = {
    index,
    pauseBeforeMs: reader.duration('pause_before') ?? 0,
    maxRetries: reader.int('max_retries', { min: 0 }) ?? 0,
    timeoutMs: reader.duration('timeout') ?? 0,
    ...(reader.bool('continue_on_error') ? { continueOnError: true } : {}),
  };
  if (NEEDS_SSH.has(raw.type) && build.communicator === 'none') {
    ctx.problems.add(
      path,
      `the ${raw.type} provisioner needs SSH, but the builder "${build.name}" has communicator "none"`,
      `remove "communicator": "none" from that builder, or add "except": ["${build.name}"] to this provisioner`,
    );
  }
  switch (raw.type) {
    case 'shell':
      return readShell(reader, common, ctx);
    case 'file':
      return readFile(reader, common, ctx);
    case 'shell-local':
      return readShellLocal(reader, common, ctx);
    case 'ansible':
      return readAnsible(reader, common, ctx, COMMON_KEYS);
    case 'ansible-local':
      return readAnsibleLocal(reader, common, ctx, COMMON_KEYS);
    default:
      return undefined;
  }
}

// Exactly one way of saying what to run (Packer: "Only one of inline, script, or scripts").
function requireOneOf(reader: FieldReader, keys: readonly string[], present: readonly string[]): void {
  if (present.length === 0) {
    reader.ctx.problems.add(reader.prefix, `nothing to run: set one of ${keys.map((k) => `"${k}"`).join(', ')}`);
  } else if (present.length > 1) {
    reader.ctx.problems.add(reader.prefix, `only one of ${keys.map((k) => `"${k}"`).join(', ')} may be set, but ${present.map((k) => `"${k}"`).join(' and ')} are`);
  }
}

function readScripts(reader: FieldReader, ctx: ProvisionerContext): { scripts: string[]; present: string[] } {
  const present: string[] = [];
  const written: Array<{ path: string; file: string }> = [];
  const script = reader.string('script');
  if (script !== undefined) {
    present.push('script');
    written.push({ path: reader.path('script'), file: script });
  }
  const scripts = reader.stringList('scripts');
  if (scripts && scripts.length) {
    present.push('scripts');
    scripts.forEach((file, i) => written.push({ path: `${reader.path('scripts')}[${i}]`, file }));
  }
  const resolved = written.map(({ path, file }) => {
    const absolute = resolveLocalPath(ctx.templateDir, file, ctx.home);
    checkLocalFile(ctx, path, file, absolute, 'file');
    return absolute;
  });
  return { scripts: resolved, present };
}

function checkLocalFile(ctx: FieldContext, path: string, written: string, absolute: string, kind: 'file' | 'file or directory'): void {
  const where = written === absolute ? `"${written}"` : `"${written}" (${absolute})`;
  try {
    const stat = statSync(absolute);
    if (kind === 'file' && !stat.isFile()) ctx.problems.add(path, `${where} is not a file`);
  } catch {
    ctx.problems.add(path, `${where} does not exist`, 'relative paths start at the template\'s directory');
  }
}

function readEnvironmentVars(reader: FieldReader): string[] {
  const vars = reader.stringList('environment_vars') ?? [];
  vars.forEach((entry, i) => {
    const equals = entry.indexOf('=');
    // The value may be secret: name the entry by its position and name only.
    if (equals <= 0) reader.ctx.problems.add(`${reader.path('environment_vars')}[${i}]`, 'is not of the form NAME=value', 'write "NAME=value"');
    else if (!/^[A-Za-z_][A-Za-z0-9_]*$/.test(entry.slice(0, equals))) {
      reader.ctx.problems.add(`${reader.path('environment_vars')}[${i}]`, `"${entry.slice(0, equals)}" is not a valid environment variable name`, 'use letters, digits and "_", not starting with a digit');
    }
  });
  return vars;
}

function readInline(reader: FieldReader, present: string[]): string[] | undefined {
  const inline = reader.stringList('inline');
  if (inline && inline.length) present.push('inline');
  return inline && inline.length ? inline : undefined;
}

function readShell(reader: FieldReader, common: ProvisionerCommon, ctx: ProvisionerContext): ShellProvisionerSpec {
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

function readExitCodes(reader: FieldReader): number[] {
  const value = reader.raw.valid_exit_codes;
  if (value === undefined || value === null) return [...SHELL_DEFAULTS.validExitCodes];
  const path = reader.path('valid_exit_codes');
  if (!Array.isArray(value) || value.length === 0) {
    reader.ctx.problems.add(path, `must be a non-empty list of exit codes, not ${Array.isArray(value) ? 'an empty list' : describeType(value)}`, 'for example [0, 2300218]');
    return [...SHELL_DEFAULTS.validExitCodes];
  }
  const codes: number[] = [];
  value.forEach((item: unknown, i) => {
    const text = typeof item === 'string' ? reader.ctx.interpolate(item, `${path}[${i}]`) : item;
    const code = typeof text === 'number' ? text : typeof text === 'string' && /^\d+$/.test(text.trim()) ? Number(text) : NaN;
    if (!Number.isInteger(code) || code < 0) reader.ctx.problems.add(`${path}[${i}]`, `must be a whole number ≥ 0, not ${typeof item === 'string' ? `"${item}"` : describeType(item)}`);
    else codes.push(code);
  });
  return codes;
}

function readFile(reader: FieldReader, common: ProvisionerCommon, ctx: ProvisionerContext): FileProvisionerSpec {
  reader.checkKeys(FILE_KEYS, UNSUPPORTED_FILE);
  const direction = reader.enumeration('direction', ['upload', 'download'] as const) ?? 'upload';
  const written: Array<{ path: string; file: string }> = [];
  const present: string[] = [];
  const source = reader.string('source');
  if (source !== undefined) {
    present.push('source');
    written.push({ path: reader.path('source'), file: source });
  }
  const sources = reader.stringList('sources');
  if (sources && sources.length) {
    present.push('sources');
    sources.forEach((file, i) => written.push({ path: `${reader.path('sources')}[${i}]`, file }));
  }
  if (present.length === 0) ctx.problems.add(reader.path('source'), 'the file provisioner needs "source" (or "sources")', 'the file or directory to copy');
  else if (present.length > 1) ctx.problems.add(reader.prefix, 'only one of "source" and "sources" may be set');

  const destination = reader.string('destination');
  if (destination === undefined) ctx.problems.add(reader.path('destination'), 'the file provisioner needs "destination"', direction === 'upload' ? 'the path on the server, e.g. "/etc/motd"' : 'the local path to download to');

  // Uploads read local files (which must exist now); downloads read remote ones and write locally.
  const local = (file: string): string => resolveLocalPath(ctx.templateDir, file, ctx.home);
  const resolvedSources = written.map(({ path, file }) => {
    if (direction === 'download') return file;
    const absolute = local(file);
    checkLocalFile(ctx, path, file, absolute, 'file or directory');
    return absolute;
  });
  return {
    type: 'file',
    ...common,
    sources: resolvedSources,
    destination: destination === undefined ? '' : direction === 'download' ? local(destination) : destination,
    direction,
  };
}

function readShellLocal(reader: FieldReader, common: ProvisionerCommon, ctx: ProvisionerContext): ShellLocalProvisionerSpec {
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
