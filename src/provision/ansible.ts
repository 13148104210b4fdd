// The `ansible` provisioner: `ansible-playbook` runs on this machine, connected straight to the
// build's server over SSH — an inventory with the server's address and port, the build's own key —
// instead of through the SSH proxy Packer's plugin serves (slow, and broken by OpenSSH 9's scp;
// packer-plugin-ansible#265, #100). Otherwise as the plugin runs it: its extra variables, ansible-galaxy
// first when there is a requirements file, and host keys not checked (a new server's is unknown).
import { randomBytes } from 'node:crypto';
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { AnsibleProvisionerSpec } from '../template/spec.js';
import { OutputTail, ProvisionerError, provisionerLabel, type ProvisionContext, type SshTarget } from './context.js';
import { renderFields } from '../template/functions.js';
import { runLocalProcess } from './local-process.js';

/** Packer's default inventory line (Ansible 2 and later). */
const DEFAULT_HOST_LINE = '{{ .HostAlias }} ansible_host={{ .Host }} ansible_user={{ .User }} ansible_port={{ .Port }}\n';

export async function runAnsible(spec: AnsibleProvisionerSpec, ctx: ProvisionContext): Promise<void> {
  const where = provisionerLabel(spec);
  const target = ctx.target;
  if (!target) throw new ProvisionerError(`${where} needs the server's SSH address, but the communicator is "none"`, { index: spec.index });
  const hidden = secretArguments(spec.extraArguments);
  const tail = new OutputTail(spec.index, ctx.onOutput);
  const say = (line: string) => tail.onLine('stdout', hide(line, hidden));
  const onLine = (stream: 'stdout' | 'stderr', line: string) => tail.onLine(stream, hide(line, hidden));

  if (spec.useProxy) say('use_proxy = true: kiln connects Ansible straight to the server all the same (there is no proxy; local_port is not used)');
  const env = ansibleEnvironment(spec, ctx);
  const scratch = await mkdtemp(join(tmpdir(), 'kiln-ansible-'));
  // In inventory_directory when given, so that its group_vars and host_vars apply (Packer's rule).
  const inventory = join(spec.inventoryDirectory ?? scratch, `kiln-ansible-inventory-${randomBytes(6).toString('hex')}`);
  try {
    await writeFile(inventory, inventoryText(spec, target, ctx), { mode: 0o600 });
    if (spec.galaxyFile) await installRequirements(spec, { env, signal: ctx.signal, onLine, say }, where, tail);

    const argv = [spec.command, ...playbookArguments(spec, target, ctx.buildName, inventory)];
    say(`Executing Ansible: ${argv.join(' ')}`);
    const outcome = new PlayOutcome();
    const result = await runLocalProcess(argv, {
      env,
      signal: ctx.signal,
      onLine: (stream, line) => {
        outcome.see(line);
        onLine(stream, line);
      },
    });
    if (result.exitCode !== 0) {
      throw new ProvisionerError(`${where}: ${outcome.describe(spec.command, result)}`, { index: spec.index, exitCode: result.exitCode, lastLines: tail.last() });
    }
  } finally {
    if (spec.keepInventoryFile) say(`Kept the inventory file ${inventory} (keep_inventory_file)`);
    else await rm(inventory, { force: true });
    await rm(scratch, { recursive: true, force: true });
  }
}

/** The inventory: the server under its alias, in each of `groups`, and the `empty_groups`. */
export function inventoryText(spec: AnsibleProvisionerSpec, target: SshTarget, ctx: Pick<ProvisionContext, 'buildValues'>): string {
  const values = { ...ctx.buildValues, HostAlias: spec.hostAlias, Host: target.host, Port: String(target.port), User: spec.user ?? target.username };
  let host = renderFields(spec.inventoryFileTemplate ?? DEFAULT_HOST_LINE, values);
  if (!host.endsWith('\n')) host += '\n';
  return host + spec.groups.map((group) => `[${group}]\n${host}`).join('') + spec.emptyGroups.map((group) => `[${group}]\n`).join('');
}

/** ansible-playbook's arguments, in the plugin's order: its `-e` variables, the SSH options, the user's, the key, the inventory, the playbook. */
export function playbookArguments(spec: AnsibleProvisionerSpec, target: SshTarget, buildName: string, inventory: string): string[] {
  const args = ['-e', `packer_build_name="${buildName}"`, '-e', 'packer_builder_type=scaleway'];
  const key = target.privateKeyFile;
  const checksHostKeys = hostKeyChecking(spec);
  // Packer's default is IdentitiesOnly with its own key; a server's host key is recorded nowhere.
  const sshArgs = [...(spec.sshExtraArgs.length > 0 ? spec.sshExtraArgs : key ? ['-o IdentitiesOnly=yes'] : []), ...(checksHostKeys ? [] : ['-o UserKnownHostsFile=/dev/null'])];
  // Joined plainly: ansible-playbook strips one pair of outer quotes and shell-splits the rest, so
  // Packer's form ('-o A' '-o B') breaks as soon as there are two.
  if (sshArgs.length > 0) args.push('--ssh-extra-args', sshArgs.join(' '));
  args.push(...spec.extraArguments);
  if (key && !spec.extraArguments.some((a) => a.includes('ansible_password'))) args.push('-e', `ansible_ssh_private_key_file=${key}`);
  args.push('-i', inventory, spec.playbookFile);
  return args;
}

/** Whether the user asked Ansible to check host keys (ANSIBLE_HOST_KEY_CHECKING in ansible_env_vars); kiln's default, as Packer's: no. */
function hostKeyChecking(spec: AnsibleProvisionerSpec): boolean {
  const set = spec.ansibleEnvVars.findLast((e) => e.startsWith('ANSIBLE_HOST_KEY_CHECKING='));
  return set !== undefined && /^(1|true|yes|on)$/i.test(set.slice(set.indexOf('=') + 1).trim());
}

/** kiln's environment, Packer's defaults for Ansible, then the template's ansible_env_vars (which win). */
function ansibleEnvironment(spec: AnsibleProvisionerSpec, ctx: Pick<ProvisionContext, 'buildName' | 'builderType'>): NodeJS.ProcessEnv {
  const env: NodeJS.ProcessEnv = {
    ...process.env,
    // Lines as they come, not in 4 KB blocks: the log and the terminal follow the play.
    PYTHONUNBUFFERED: '1',
    ANSIBLE_HOST_KEY_CHECKING: 'False',
    PACKER_BUILD_NAME: ctx.buildName,
    PACKER_BUILDER_TYPE: ctx.builderType,
    // use_sftp: SFTP only; otherwise Ansible's own choice (SFTP, then scp).
    ...(spec.useSftp ? { ANSIBLE_SSH_TRANSFER_METHOD: 'sftp' } : {}),
    // Where ansible-galaxy installed the requirements: the play finds them there (Packer's rule).
    ...(spec.rolesPath ? { ANSIBLE_ROLES_PATH: spec.rolesPath } : {}),
    ...(spec.collectionsPath ? { ANSIBLE_COLLECTIONS_PATH: spec.collectionsPath } : {}),
  };
  for (const entry of spec.ansibleEnvVars) {
    const equals = entry.indexOf('=');
    env[entry.slice(0, equals)] = entry.slice(equals + 1);
  }
  return env;
}

interface GalaxyRun {
  env: NodeJS.ProcessEnv;
  signal: AbortSignal;
  onLine: (stream: 'stdout' | 'stderr', line: string) => void;
  say: (line: string) => void;
}

/** `ansible-galaxy install -r` for roles, `ansible-galaxy collection install -r` for collections, as the file lists them. */
async function installRequirements(spec: AnsibleProvisionerSpec, run: GalaxyRun, where: string, tail: OutputTail): Promise<void> {
  const file = spec.galaxyFile!;
  const text = await readFile(file, 'utf8');
  const hasRoles = /^roles:/m.test(text);
  const hasCollections = /^collections:/m.test(text);
  const force = [...(spec.galaxyForceInstall ? ['-f'] : []), ...(spec.galaxyForceWithDeps ? ['--force-with-deps'] : [])];
  const installs: string[][] = [];
  // A file without either key is the old roles-only format.
  if (hasRoles || !hasCollections) installs.push(['install', '-r', file, ...force, ...(spec.rolesPath ? ['-p', spec.rolesPath] : [])]);
  if (hasCollections) installs.push(['collection', 'install', '-r', file, ...force, ...(spec.collectionsPath ? ['-p', spec.collectionsPath] : [])]);
  for (const args of installs) {
    const argv = [spec.galaxyCommand, ...args];
    run.say(`Executing Ansible Galaxy: ${argv.join(' ')}`);
    const result = await runLocalProcess(argv, { env: run.env, signal: run.signal, onLine: run.onLine });
    if (result.exitCode !== 0) {
      throw new ProvisionerError(`${where}: \`${argv.join(' ')}\` ${result.exitCode === null ? `was killed by ${result.signal}` : `exited with code ${result.exitCode}`}`, {
        index: spec.index,
        exitCode: result.exitCode,
        lastLines: tail.last(),
      });
    }
  }
}

/**
 * What a failed play said: its last `fatal:`/`failed:` or `ERROR!` line, and the PLAY RECAP's
 * line for the host. The whole output is in the log; the error carries what to read first.
 */
export class PlayOutcome {
  private failure: string | undefined;
  private inRecap = false;
  private readonly recap: string[] = [];

  see(line: string): void {
    if (/^(fatal|failed): \[/.test(line) || /^ERROR! /.test(line)) this.failure = line.trim();
    if (/^PLAY RECAP /.test(line)) this.inRecap = true;
    else if (this.inRecap && /\sok=\d+/.test(line)) this.recap.push(line.trim().replace(/\s+/g, ' '));
  }

  describe(command: string, result: { exitCode: number | null; signal: string | null }): string {
    const how = result.exitCode === null ? `was killed by ${result.signal}` : result.exitCode === 127 ? 'was not found (exit code 127)' : `exited with code ${result.exitCode}`;
    return [`${command} ${how}`, this.failure, this.recap.length > 0 ? `PLAY RECAP: ${this.recap.join('; ')}` : undefined].filter(Boolean).join('\n  ');
  }
}

/** Packer hides the value of an extra argument `name=value` whose name says password or secret. */
function secretArguments(args: readonly string[]): string[] {
  return args.flatMap((arg) => {
    const equals = arg.indexOf('=');
    const name = arg.slice(0, Math.max(0, equals)).toLowerCase();
    const value = arg.slice(equals + 1);
    return equals > 0 && value !== '' && (name.includes('password') || name.includes('secret')) ? [value] : [];
  });
}

function hide(line: string, secrets: readonly string[]): string {
  return secrets.reduce((text, secret) => text.split(secret).join('*****'), line);
}
