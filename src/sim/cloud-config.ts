// `#cloud-config` user data, applied as cloud-init applies it: read host side at boot (YAML 1.1,
// as PyYAML reads it), then turned into one small POSIX sh program per module, which the guest's
// cloud-init (cloud-init.ts) runs in cloud-init's order inside the confined server. The modules
// images commonly use are applied — bootcmd, write_files (and deferred ones), users and their
// ssh_authorized_keys, the default user's ssh_authorized_keys, runcmd (run by scripts_user) — and
// package_update/package_upgrade are reported as what they are here: nothing to update. What
// cloud-init would log as a WARNING (a YAML or schema problem, a key the simulator does not apply)
// makes the run "degraded"; a module that fails is an error, worded as cloud-init words it.
import { gunzipSync } from 'node:zlib';
import { parse as parseYaml, YAMLParseError } from 'yaml';

/** One module's program, in run order: `name` as cloud-init names the module. */
export interface ModuleScript {
  name: string;
  script: string;
}

export interface CloudConfigPlan {
  modules: ModuleScript[];
  /** What cloud-init would log as WARNING: the run ends "degraded". */
  warnings: string[];
}

/** Where a failing module leaves its error, worded as cloud-init's status shows it (one line). */
export const MODULE_ERROR_FILE = '/var/lib/cloud/data/module-error';
const SCRIPTS_DIR = '/var/lib/cloud/instance/scripts';
const SCHEMA_WARNING = "cloud-config failed schema validation! You may run 'sudo cloud-init schema --system' to check the details.";
/** Scaleway's images log in as root: cloud-init's default user there. */
const DEFAULT_USER = { name: 'root', home: '/root' };
/** Keys that direct merging rather than configure a module. */
const DIRECTIVES = new Set(['merge_how', 'merge_type']);
const APPLIED = new Set(['bootcmd', 'write_files', 'users', 'ssh_authorized_keys', 'runcmd', 'package_update', 'package_upgrade', 'packages']);

/** `s` as one shell word. */
function sh(s: string): string {
  return `'${s.replace(/'/g, `'\\''`)}'`;
}

/** A Python repr of a str (what cloud-init's error lines show inside an exception). */
function pyRepr(s: string): string {
  const quote = s.includes("'") && !s.includes('"') ? '"' : "'";
  const body = s.replace(/\\/g, '\\\\').replace(/\n/g, '\\n').replace(/\t/g, '\\t');
  return quote + (quote === "'" ? body.replace(/'/g, "\\'") : body) + quote;
}

/** A module program's failure: its error line goes where cloud-init's status reads it. */
function failWith(module: string, exception: string): string {
  return `printf '%s\\n' ${sh(`('${module}', ${exception})`)} > ${MODULE_ERROR_FILE}; exit 1`;
}

/** The same for a command whose stderr (in `$err`) is the error's message: `exception('prefix<stderr>')`. */
function failWithOutput(module: string, exception: string, prefix: string): string {
  return `printf "('%s', %s('%s%s'))\\n" ${sh(module)} ${sh(exception)} ${sh(prefix)} "$(printf '%s' "$err" | tr '\\n' ' ')" > ${MODULE_ERROR_FILE}; exit 1`;
}

/** The name Python gives a value's type, as cloud-init's messages show it. */
function pyType(v: unknown): string {
  if (v === null) return 'NoneType';
  if (Array.isArray(v)) return 'list';
  return { string: 'str', number: Number.isInteger(v) ? 'int' : 'float', boolean: 'bool', object: 'dict' }[typeof v as string] ?? 'object';
}

/**
 * cloud-init's `shellify`: a list of commands, each a string (run as written) or a list of words
 * (each quoted); undefined when `commands` is not a list (cloud-init raises a TypeError then).
 */
function shellify(commands: unknown): string | undefined {
  if (!Array.isArray(commands)) return undefined;
  const lines = ['#!/bin/sh'];
  for (const command of commands) {
    if (Array.isArray(command)) lines.push(command.map((word) => sh(String(word))).join(' '));
    else if (typeof command === 'string') lines.push(command);
    else if (command !== null) return undefined;
  }
  return `${lines.join('\n')}\n`;
}

/** Writes `content` to `path` in the guest (base64 carries any bytes through the shell). */
function writeFileCommand(path: string, content: Buffer, mode: string, append = false): string {
  return `mkdir -p -- "$(dirname -- ${sh(path)})" && printf '%s' ${sh(content.toString('base64'))} | base64 -d ${append ? '>>' : '>'} ${sh(path)} && chmod ${mode} ${sh(path)}`;
}

// ---- the modules ------------------------------------------------------------------------------

function bootcmd(value: unknown, warnings: string[]): ModuleScript {
  const script = shellify(value);
  if (script === undefined) {
    warnings.push(SCHEMA_WARNING);
    return { name: 'bootcmd', script: failWith('bootcmd', `TypeError(${pyRepr(`Input to shellify was type '${pyType(value)}'. Expected list or tuple.`)})`) };
  }
  const file = '/var/lib/cloud/instance/boothooks/bootcmd.sh';
  const error = `ProcessExecutionError(${pyRepr(`Unexpected error while running command.\nCommand: ['/bin/sh', '${file}']\nExit code: @CODE@\nReason: -\nStdout: -\nStderr: -`)})`;
  return {
    name: 'bootcmd',
    script: [
      writeFileCommand(file, Buffer.from(script), '0700'),
      `INSTANCE_ID="$(cat /var/lib/cloud/data/instance-id)" /bin/sh ${file}`,
      `code=$?; [ "$code" -eq 0 ] && exit 0`,
      `printf '%s\\n' ${sh(`('bootcmd', ${error})`)} | sed "s/@CODE@/$code/" > ${MODULE_ERROR_FILE}; exit 1`,
    ].join('\n'),
  };
}

/** cloud-init's encodings of write_files content: what is done to the text before it is written. */
function decodeContent(content: string, encoding: string): Buffer {
  const e = encoding.toLowerCase().trim();
  if (['gz', 'gzip'].includes(e)) return gunzipSync(Buffer.from(content, 'latin1'));
  if (['gz+base64', 'gzip+base64', 'gz+b64', 'gzip+b64'].includes(e)) return gunzipSync(Buffer.from(content, 'base64'));
  if (['b64', 'base64'].includes(e)) return Buffer.from(content, 'base64');
  return Buffer.from(content);
}

/** cloud-init's `decode_perms`: an int is the mode itself (YAML reads 0644 as octal), a string is octal. */
function decodePermissions(value: unknown): string | undefined {
  if (value === undefined || value === null) return '0644';
  if (typeof value === 'number' && Number.isInteger(value)) return value.toString(8).padStart(4, '0');
  if (typeof value === 'string' && /^0?[0-7]{3,4}$/.test(value.trim())) return value.trim();
  return undefined;
}

function writeFiles(name: 'write_files' | 'write_files_deferred', entries: Record<string, unknown>[], warnings: string[]): ModuleScript {
  const lines: string[] = [];
  for (const entry of entries) {
    const path = entry.path;
    if (typeof path !== 'string' || path === '') {
      warnings.push(`No path provided to write for entry ${JSON.stringify(entry)} in module ${name}`);
      continue;
    }
    let content: Buffer;
    try {
      content = decodeContent(typeof entry.content === 'string' ? entry.content : '', typeof entry.encoding === 'string' ? entry.encoding : '');
    } catch (error) {
      lines.push(failWith(name, `ValueError(${pyRepr(`could not decode the content of ${path}: ${(error as Error).message}`)})`));
      continue;
    }
    let mode = decodePermissions(entry.permissions);
    if (mode === undefined) {
      warnings.push(`Undecodable permissions ${String(entry.permissions)}, returning default 0o644`);
      mode = '0644';
    }
    const owner = typeof entry.owner === 'string' ? entry.owner : 'root:root';
    const write = `${writeFileCommand(path, content, mode, entry.append === true)} && give_to ${sh(owner)} ${sh(path)}`;
    lines.push(`err=$( { ${write}; } 2>&1 ) || { ${failWithOutput(name, 'OSError', `writing ${path} failed: `)}; }`);
  }
  return { name, script: lines.join('\n') };
}

/**
 * chown as the modules use it. A server the simulator confines in a user namespace that maps only
 * uid 0 (README: "only uid 0 exists inside") cannot give a file to another user: there, what
 * cloud-init would give to a user stays root's, and the output log says so.
 */
const GIVE_TO = `give_to() {
  chown -- "$@" 2>/dev/null && return 0
  if [ "$(awk 'END { print NR }' /proc/self/uid_map)" = 1 ] && [ "$(awk '{ print $3 }' /proc/self/uid_map)" = 1 ]; then
    echo "cloud-init (kiln simulator): only uid 0 exists on this server: $2 stays root's, not $1's"
    return 0
  fi
  chown -- "$@"
}`;

const USER_NAME = /^[a-z_][a-z0-9_-]*\$?$/;

/** Adds `user` to `group` in /etc/group (made first if missing, as cloud-init makes missing groups). */
function joinGroupCommand(user: string, group: string): string {
  return (
    `grep -q ${sh(`^${group}:`)} /etc/group || echo ${sh(`${group}:x:`)}"$(awk -F: 'BEGIN{m=999} $3>m&&$3<60000{m=$3} END{print m+1}' /etc/group)": >> /etc/group; ` +
    `awk -F: -v OFS=: -v g=${sh(group)} -v u=${sh(user)} '$1==g{n=split($4,a,",");f=0;for(i=1;i<=n;i++)if(a[i]==u)f=1;if(!f)$4=($4==""?u:$4","u)}1' /etc/group > /etc/group.new && mv /etc/group.new /etc/group`
  );
}

/** authorized_keys of `home`, owned by `owner`: appended, as cloud-init's ssh modules do. */
function authorizedKeysCommand(home: string, owner: string, keys: string[]): string {
  const file = `${home}/.ssh/authorized_keys`;
  return (
    `mkdir -p ${sh(`${home}/.ssh`)} && chmod 700 ${sh(`${home}/.ssh`)} && printf '%s\\n' ${keys.map(sh).join(' ')} >> ${sh(file)} && ` +
    `chmod 600 ${sh(file)} && give_to ${sh(owner)} ${sh(`${home}/.ssh`)} ${sh(file)}`
  );
}

function usersGroups(users: unknown[], warnings: string[]): ModuleScript {
  const lines: string[] = [];
  for (const raw of users) {
    if (raw === 'default') continue; // root: there already
    const user: Record<string, unknown> = typeof raw === 'string' ? { name: raw } : typeof raw === 'object' && raw !== null && !Array.isArray(raw) ? (raw as Record<string, unknown>) : {};
    const name = user.name;
    if (typeof name !== 'string' || !USER_NAME.test(name)) {
      warnings.push(SCHEMA_WARNING);
      continue;
    }
    const home = typeof user.homedir === 'string' ? user.homedir : `/home/${name}`;
    const shell = typeof user.shell === 'string' ? user.shell : '/bin/sh';
    const gecos = typeof user.gecos === 'string' ? user.gecos.replace(/[:\n]/g, ' ') : '';
    const uid = typeof user.uid === 'number' ? String(user.uid) : `$(awk -F: 'BEGIN{m=999} $3>m&&$3<60000{m=$3} END{print m+1}' /etc/passwd)`;
    const groups = (Array.isArray(user.groups) ? user.groups : typeof user.groups === 'string' ? user.groups.split(',') : []).map((g) => String(g).trim()).filter((g) => USER_NAME.test(g));
    const error = failWith('users_groups', `RuntimeError(${pyRepr(`Failed to create user ${name}`)})`);
    lines.push(
      `if ! grep -q ${sh(`^${name}:`)} /etc/passwd; then`,
      `  id=${uid}`,
      `  { echo ${sh(`${name}:x:`)}"$id:$id:"${sh(`${gecos}:${home}:${shell}`)} >> /etc/passwd && echo ${sh(`${name}:x:`)}"$id": >> /etc/group &&`,
      `    { [ ! -f /etc/shadow ] || echo ${sh(`${name}:!:19000:0:99999:7:::`)} >> /etc/shadow; } &&`,
      `    mkdir -p ${sh(home)} && give_to "$id:$id" ${sh(home)} && chmod 750 ${sh(home)}; } || { ${error}; }`,
      `fi`,
      ...groups.map((group) => `${joinGroupCommand(name, group)} || { ${error}; }`),
    );
    const sudo = Array.isArray(user.sudo) ? user.sudo.map(String) : typeof user.sudo === 'string' ? [user.sudo] : [];
    if (sudo.length > 0) {
      lines.push(`mkdir -p /etc/sudoers.d && printf '%s\\n' ${sudo.map((rule) => sh(`${name} ${rule}`)).join(' ')} >> /etc/sudoers.d/90-cloud-init-users && chmod 440 /etc/sudoers.d/90-cloud-init-users`);
    }
    const keys = Array.isArray(user.ssh_authorized_keys) ? user.ssh_authorized_keys.filter((k): k is string => typeof k === 'string') : [];
    if (keys.length > 0) lines.push(`${authorizedKeysCommand(home, `${name}:${name}`, keys)} || { ${error}; }`);
  }
  return { name: 'users_groups', script: lines.join('\n') };
}

// ---- the plan -----------------------------------------------------------------------------------

/** Whether user data is cloud-config (cloud-init's `#cloud-config` header). */
export function isCloudConfig(userData: string): boolean {
  return /^#cloud-config[ \t]*\r?\n?/.test(userData);
}

/** The modules a `#cloud-config` document runs, and what cloud-init would warn about it. */
export function planCloudConfig(userData: string): CloudConfigPlan {
  const warnings: string[] = [];
  let config: unknown;
  try {
    config = parseYaml(userData, { version: '1.1' });
  } catch (error) {
    const at = error instanceof YAMLParseError ? error.linePos?.[0] : undefined;
    const problem = (error as Error).message.split('\n')[0]!.replace(/ at line \d+, column \d+:$/, '');
    warnings.push(`Failed loading yaml blob. ${at ? `Invalid format at line ${at.line} column ${at.col}: "${problem}"` : problem}`);
    config = undefined;
  }
  if (config !== undefined && config !== null && (typeof config !== 'object' || Array.isArray(config))) {
    warnings.push(`Failed loading yaml blob. Yaml load allows (<class 'dict'>,) root types, but got ${pyType(config)} instead`);
    config = undefined;
  }
  if (config === undefined || config === null) {
    warnings.push('Failed at merging in cloud config part from part-001: empty cloud config');
    return { modules: [], warnings };
  }
  const cfg = config as Record<string, unknown>;
  const modules: ModuleScript[] = [];
  if ('bootcmd' in cfg) modules.push(bootcmd(cfg.bootcmd, warnings));

  let files: Record<string, unknown>[] = [];
  if ('write_files' in cfg) {
    if (Array.isArray(cfg.write_files)) files = cfg.write_files.filter((f): f is Record<string, unknown> => typeof f === 'object' && f !== null);
    if (!Array.isArray(cfg.write_files) || files.length !== cfg.write_files.length) warnings.push(SCHEMA_WARNING);
    const now = files.filter((f) => f.defer !== true);
    if (now.length > 0) modules.push(writeFiles('write_files', now, warnings));
  }

  if ('users' in cfg) {
    const users = Array.isArray(cfg.users) ? cfg.users : typeof cfg.users === 'string' ? cfg.users.split(',').map((u) => u.trim()) : undefined;
    if (users) modules.push(usersGroups(users, warnings));
    else warnings.push(SCHEMA_WARNING);
  }
  if ('ssh_authorized_keys' in cfg) {
    const keys = Array.isArray(cfg.ssh_authorized_keys) ? cfg.ssh_authorized_keys.filter((k): k is string => typeof k === 'string') : [];
    if (!Array.isArray(cfg.ssh_authorized_keys) || keys.length !== cfg.ssh_authorized_keys.length) warnings.push(SCHEMA_WARNING);
    if (keys.length > 0) modules.push({ name: 'ssh', script: authorizedKeysCommand(DEFAULT_USER.home, `${DEFAULT_USER.name}:${DEFAULT_USER.name}`, keys) });
  }

  if ('runcmd' in cfg) {
    const script = shellify(cfg.runcmd);
    const file = `${SCRIPTS_DIR}/runcmd`;
    if (script === undefined) {
      warnings.push(SCHEMA_WARNING);
      modules.push({ name: 'runcmd', script: failWith('runcmd', `TypeError(${pyRepr(`Failed to shellify ${JSON.stringify(cfg.runcmd)} into file ${file}`)})`) });
    } else {
      // Run later, with the user's other scripts, by scripts_user.
      modules.push({ name: 'runcmd', script: writeFileCommand(file, Buffer.from(script), '0700') });
    }
  }

  const update = cfg.package_update === true;
  const upgrade = cfg.package_upgrade === true;
  const packages = Array.isArray(cfg.packages) ? cfg.packages.map((p) => (Array.isArray(p) ? p.join('=') : String(p))) : [];
  if (update || upgrade || packages.length > 0) {
    // The simulated images have no package mirror: say so in the output log, as the module's own output.
    const said = [update ? 'package_update' : '', upgrade ? 'package_upgrade' : ''].filter(Boolean);
    const lines = said.length > 0 ? [`echo ${sh(`${said.join(' and ')}: the simulated image has no package mirror; nothing was updated`)}`] : [];
    modules.push({ name: 'package_update_upgrade_install', script: lines.join('\n') || 'true' });
    if (packages.length > 0) warnings.push(`kiln simulator: packages are not installed (the simulated image has no package mirror): ${packages.join(', ')}`);
  }

  const deferred = files.filter((f) => f.defer === true);
  if (deferred.length > 0) modules.push(writeFiles('write_files_deferred', deferred, warnings));

  const ignored = Object.keys(cfg).filter((k) => !APPLIED.has(k) && !DIRECTIVES.has(k));
  if (ignored.length > 0) warnings.push(`kiln simulator: cloud-config keys not applied: ${ignored.join(', ')}`);
  return { modules: modules.map((m) => ({ ...m, script: `${GIVE_TO}\n${m.script}` })), warnings: [...new Set(warnings)] };
}
