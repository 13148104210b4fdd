// The `ansible` provisioner as packer-plugin-ansible (v1.1.6) writes it. kiln runs
// `ansible-playbook` on this machine straight against the build's server (no SSH proxy), so the
// proxy's own keys are refused here, with what to do instead. `ansible-playbook` is looked for
// (and its version checked) when the template is read, as Packer's Prepare does.
import { execFileSync } from 'node:child_process';
import { statSync } from 'node:fs';
import type { FieldContext, FieldReader } from '../fields.js';
import { BUILD_VALUES } from '../functions.js';
import { resolveLocalPath } from '../paths.js';
import type { AnsibleProvisionerSpec, ProvisionerCommon } from '../spec.js';
import { COMMON_KEYS } from './common.js';

const ANSIBLE_KEYS = [
  'playbook_file', 'command', 'extra_arguments', 'ansible_env_vars', 'ansible_ssh_extra_args', 'groups', 'empty_groups',
  'host_alias', 'user', 'inventory_file_template', 'inventory_directory', 'keep_inventory_file', 'galaxy_file',
  'galaxy_command', 'galaxy_force_install', 'galaxy_force_with_deps', 'roles_path', 'collections_path', 'use_proxy',
  'local_port', 'skip_version_check', 'use_sftp',
];
const DIRECT = 'kiln connects Ansible straight to the server (there is no proxy)';
const UNSUPPORTED_ANSIBLE: Record<string, string> = {
  ssh_host_key_file: `${DIRECT}: the server's own host key is used, and not checked, as Packer does for new servers`,
  ssh_authorized_key_file: `${DIRECT}: Ansible logs in with the build's key (ssh_private_key_file, the agent, or kiln's temporary key)`,
  ansible_proxy_key_type: `${DIRECT}: remove it`,
  sftp_command: `${DIRECT}: Ansible talks to the server's own SFTP server; set use_sftp = true to copy files over SFTP`,
  ansible_winrm_use_http: 'kiln builds over SSH only',
  inventory_file: 'kiln writes the inventory, pointing at the build\'s server; use inventory_directory for your group_vars/host_vars, inventory_file_template for the host line',
};

/** The oldest Ansible kiln drives: `ansible_host`/`ansible_user` inventories, ansible-galaxy collections. */
export const MIN_ANSIBLE = { major: 2, minor: 9 } as const;
export const ANSIBLE_INSTALL_HINT = 'install Ansible (Debian/Ubuntu: `apt-get install ansible-core`; elsewhere `pipx install ansible-core`)';

/** Fields of inventory_file_template filled in when the provisioner runs. */
const INVENTORY_FIELDS = ['HostAlias', 'Host', 'User', 'Port', ...BUILD_VALUES];

/** What the Ansible readers need of the provisioner dispatch's context: where local paths start. */
export interface LocalPathContext extends FieldContext {
  templateDir: string;
  home: string;
}

export function readAnsible(reader: FieldReader, common: ProvisionerCommon, ctx: LocalPathContext): AnsibleProvisionerSpec {
  reader.checkKeys([...COMMON_KEYS, ...ANSIBLE_KEYS], UNSUPPORTED_ANSIBLE);
  const playbookFile = localPath(reader, ctx, 'playbook_file', 'file');
  if (!reader.has('playbook_file')) ctx.problems.add(reader.path('playbook_file'), 'the ansible provisioner needs "playbook_file"', 'the playbook to run, e.g. "playbook.yml" (relative paths start at the template\'s directory)');
  const command = reader.string('command') ?? 'ansible-playbook';
  const localPort = reader.int('local_port', { min: 0, max: 65535 });
  if (!(reader.bool('skip_version_check') ?? false)) checkAnsiblePlaybook(command, reader.has('command') ? reader.path('command') : reader.prefix, ctx);
  const useProxy = reader.bool('use_proxy');
  const galaxyFile = localPath(reader, ctx, 'galaxy_file', 'file');
  const inventoryDirectory = localPath(reader, ctx, 'inventory_directory', 'directory');
  const rolesPath = reader.string('roles_path');
  const collectionsPath = reader.string('collections_path');
  const user = reader.string('user');
  const inventoryFileTemplate = reader.string('inventory_file_template', { keepFields: INVENTORY_FIELDS });
  return {
    type: 'ansible',
    ...common,
    playbookFile: playbookFile ?? '',
    command,
    extraArguments: reader.stringList('extra_arguments') ?? [],
    ansibleEnvVars: readAssignments(reader, 'ansible_env_vars'),
    sshExtraArgs: reader.stringList('ansible_ssh_extra_args') ?? [],
    groups: reader.stringList('groups') ?? [],
    emptyGroups: reader.stringList('empty_groups') ?? [],
    hostAlias: reader.string('host_alias') ?? 'default',
    ...(user !== undefined ? { user } : {}),
    ...(inventoryFileTemplate !== undefined ? { inventoryFileTemplate } : {}),
    ...(inventoryDirectory !== undefined ? { inventoryDirectory } : {}),
    keepInventoryFile: reader.bool('keep_inventory_file') ?? false,
    ...(galaxyFile !== undefined ? { galaxyFile } : {}),
    galaxyCommand: reader.string('galaxy_command') ?? 'ansible-galaxy',
    galaxyForceInstall: reader.bool('galaxy_force_install') ?? false,
    galaxyForceWithDeps: reader.bool('galaxy_force_with_deps') ?? false,
    ...(rolesPath !== undefined ? { rolesPath: resolveLocalPath(ctx.templateDir, rolesPath, ctx.home) } : {}),
    ...(collectionsPath !== undefined ? { collectionsPath: resolveLocalPath(ctx.templateDir, collectionsPath, ctx.home) } : {}),
    // local_port is the proxy's: read (and range-checked) so a template written for Packer loads.
    ...(useProxy !== undefined || localPort !== undefined ? { useProxy: useProxy ?? true } : {}),
    useSftp: reader.bool('use_sftp') ?? false,
  };
}

/** A local file or directory key, resolved against the template's directory; it must exist. */
export function localPath(reader: FieldReader, ctx: LocalPathContext, key: string, kind: 'file' | 'directory'): string | undefined {
  const written = reader.string(key);
  if (written === undefined) return undefined;
  return checkedPath(ctx, reader.path(key), written, kind);
}

/** Each of a list key's local paths, resolved and checked. */
export function localPaths(reader: FieldReader, ctx: LocalPathContext, key: string, kind: 'file' | 'directory'): string[] {
  return (reader.stringList(key) ?? []).map((written, i) => checkedPath(ctx, `${reader.path(key)}[${i}]`, written, kind));
}

function checkedPath(ctx: LocalPathContext, path: string, written: string, kind: 'file' | 'directory'): string {
  const absolute = resolveLocalPath(ctx.templateDir, written, ctx.home).replace(/(.)\/$/, '$1');
  const where = written === absolute ? `"${written}"` : `"${written}" (${absolute})`;
  try {
    const stat = statSync(absolute);
    if (kind === 'file' && !stat.isFile()) ctx.problems.add(path, `${where} is not a file`);
    if (kind === 'directory' && !stat.isDirectory()) ctx.problems.add(path, `${where} is not a directory`);
  } catch {
    ctx.problems.add(path, `${where} does not exist`, 'relative paths start at the template\'s directory');
  }
  return absolute;
}

/** NAME=value entries (ansible_env_vars); a value may be secret, so a bad entry is named by its position. */
function readAssignments(reader: FieldReader, key: string): string[] {
  const entries = reader.stringList(key) ?? [];
  entries.forEach((entry, i) => {
    const name = entry.slice(0, Math.max(0, entry.indexOf('=')));
    if (!/^[A-Za-z_][A-Za-z0-9_]*$/.test(name)) reader.ctx.problems.add(`${reader.path(key)}[${i}]`, 'is not of the form NAME=value', 'write "ANSIBLE_NOCOLOR=True"');
  });
  return entries;
}

const versions = new Map<string, { version?: string; problem?: { message: string; hint: string } }>();

/**
 * Runs `<command> --version` once per command and process: a missing or too old ansible-playbook
 * is a template problem, found before anything is created.
 */
export function checkAnsiblePlaybook(command: string, path: string, ctx: Pick<FieldContext, 'problems'>): void {
  let result = versions.get(command);
  if (!result) {
    result = probeVersion(command);
    versions.set(command, result);
  }
  if (result.problem) ctx.problems.add(path, result.problem.message, result.problem.hint);
}

function probeVersion(command: string): { version?: string; problem?: { message: string; hint: string } } {
  let output: string;
  try {
    output = execFileSync(command, ['--version'], { encoding: 'utf8', timeout: 120_000, stdio: ['ignore', 'pipe', 'pipe'] });
  } catch (error) {
    const e = error as NodeJS.ErrnoException & { stderr?: string; status?: number | null };
    if (e.code === 'ENOENT') {
      return { problem: { message: `"${command}" was not found${command.includes('/') ? '' : ' on PATH'}`, hint: `${ANSIBLE_INSTALL_HINT}, set "command" to its path, or skip_version_check = true if the build installs it` } };
    }
    const said = (e.stderr ?? '').trim().split('\n').at(-1) ?? '';
    return { problem: { message: `\`${command} --version\` failed (${e.code ?? `exit ${e.status}`})${said ? `: ${said}` : ''}`, hint: `check that "${command}" is ansible-playbook; ${ANSIBLE_INSTALL_HINT}` } };
  }
  // "ansible-playbook [core 2.14.18]" (2.11 on), "ansible-playbook 2.9.27" before.
  const match = /(?:core |^\S+ )(\d+)\.(\d+)(?:\.\d+)?/m.exec(output);
  if (!match) return { problem: { message: `\`${command} --version\` printed no Ansible version (${output.split('\n')[0]?.trim()})`, hint: `check that "${command}" is ansible-playbook, or set skip_version_check = true` } };
  const [major, minor] = [Number(match[1]), Number(match[2])];
  const version = `${major}.${minor}`;
  if (major < MIN_ANSIBLE.major || (major === MIN_ANSIBLE.major && minor < MIN_ANSIBLE.minor)) {
    return { version, problem: { message: `${command} is Ansible ${version}; kiln needs Ansible ${MIN_ANSIBLE.major}.${MIN_ANSIBLE.minor} or later`, hint: ANSIBLE_INSTALL_HINT } };
  }
  return { version };
}
