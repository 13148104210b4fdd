// The `ansible-local` provisioner, as packer-plugin-ansible runs it: the playbooks and the files
// they need go to a staging directory on the server (over the communicator), ansible-galaxy
// installs the requirements there, then `ansible-playbook … -c local -i <inventory>` runs in it;
// the staging directory is removed when clean_staging_directory asks for it.
import { randomUUID } from 'node:crypto';
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { basename, join, posix } from 'node:path';
import type { AnsibleLocalProvisionerSpec } from '../template/spec.js';
import { shellQuote, SshConnectError, SshDisconnectError, type Communicator } from '../ssh/index.js';
import { OutputTail, ProvisionerError, provisionerLabel, type ProvisionContext } from './context.js';

/** Packer's staging directory, with a new name each run. */
const DEFAULT_STAGING_PARENT = '/tmp/packer-provisioner-ansible-local';

export async function runAnsibleLocal(spec: AnsibleLocalProvisionerSpec, ctx: ProvisionContext, communicator: Communicator): Promise<void> {
  const where = provisionerLabel(spec);
  const tail = new OutputTail(spec.index, ctx.onOutput);
  const say = (line: string) => tail.onLine('stdout', line);
  const staging = spec.stagingDirectory ?? posix.join(DEFAULT_STAGING_PARENT, randomUUID());
  const inStaging = (...parts: string[]) => posix.join(staging, ...parts);
  const options = { signal: ctx.signal };
  /** Runs a command on the server; a non-zero exit fails the provisioner with `what`. */
  const run = async (command: string, what: string) => {
    const result = await communicator.exec(command, { signal: ctx.signal, onLine: tail.onLine });
    if (result.exitCode === 0) return;
    const how = result.exitCode === null ? `was killed by ${result.signal ?? 'a signal'}` : result.exitCode === 127 ? 'was not found on the server (exit code 127)' : `exited with code ${result.exitCode}`;
    const hint = result.exitCode === 127 ? '; ansible-local needs Ansible installed on the server (a shell provisioner before it can install it, e.g. `apt-get install -y ansible-core`)' : '';
    throw new ProvisionerError(`${where}: ${what} ${how}${hint}`, { index: spec.index, exitCode: result.exitCode, lastLines: tail.last() });
  };
  /** A directory's contents into `remote` (Packer's uploadDir). */
  const uploadContents = (local: string, remote: string) => communicator.upload(local, remote, options);

  const scratch = await mkdtemp(join(tmpdir(), 'kiln-ansible-local-'));
  try {
    try {
      if (spec.playbookDir) {
        say(`Uploading the playbook directory to the staging directory ${staging}`);
        await uploadContents(spec.playbookDir, staging);
      } else {
        await run(`mkdir -p ${shellQuote(staging)}`, 'creating the staging directory');
      }
      // playbook_file goes to the staging directory's top; each of playbook_files keeps its
      // local path below it, unless it lies in playbook_dir (uploaded already).
      const remotePlaybooks: string[] = [];
      for (const file of spec.playbookFiles) {
        if (!spec.singlePlaybook && spec.playbookDir && file.startsWith(`${spec.playbookDir}/`)) {
          remotePlaybooks.push(inStaging(file.slice(spec.playbookDir.length + 1)));
          continue;
        }
        const remote = spec.singlePlaybook ? inStaging(basename(file)) : inStaging(file);
        say(`Uploading playbook ${file}`);
        await communicator.upload(file, remote, options);
        remotePlaybooks.push(remote);
      }
      let inventory: string;
      if (spec.inventoryFile) {
        inventory = inStaging(basename(spec.inventoryFile));
        await communicator.upload(spec.inventoryFile, inventory, options);
      } else {
        const local = join(scratch, 'kiln-inventory');
        await writeFile(local, spec.inventoryGroups.length > 0 ? spec.inventoryGroups.map((g) => `[${g}]\n127.0.0.1\n`).join('') : '127.0.0.1\n');
        inventory = inStaging('kiln-inventory');
        await communicator.upload(local, inventory, options);
      }
      if (spec.galaxyFile) await communicator.upload(spec.galaxyFile, inStaging(basename(spec.galaxyFile)), options);
      if (spec.groupVars) await uploadContents(spec.groupVars, inStaging('group_vars'));
      if (spec.hostVars) await uploadContents(spec.hostVars, inStaging('host_vars'));
      for (const dir of spec.rolePaths) await uploadContents(dir, inStaging('roles', basename(dir)));
      for (const dir of spec.collectionPaths) await uploadContents(dir, inStaging('collections', basename(dir)));
      for (const dir of spec.playbookPaths) await uploadContents(dir, inStaging('playbooks', basename(dir)));

      const galaxy = spec.galaxyFile ? await galaxyPlan(spec, staging) : undefined;
      for (const command of galaxy?.commands ?? []) {
        say(`Executing Ansible Galaxy: ${command}`);
        await run(`cd ${shellQuote(staging)} && ${command}`, spec.galaxyCommand);
      }
      const env = playbookEnvironment(spec, staging, galaxy);
      const extraVars = `--extra-vars ${shellQuote(`packer_build_name=${ctx.buildName} packer_builder_type=${ctx.builderType}`)}`;
      for (const playbook of remotePlaybooks) {
        // extra_arguments are joined as they are: the server's shell reads them, as with Packer.
        const command = `cd ${shellQuote(staging)} && ${env}${spec.command} ${shellQuote(playbook)} ${extraVars} ${spec.extraArguments.join(' ')} -c local -i ${shellQuote(inventory)}`.replace(/ {2,}/g, ' ');
        say(`Executing Ansible: ${command}`);
        await run(command, spec.command.split(' ').at(-1) ?? spec.command);
      }
      if (spec.cleanStagingDirectory) {
        say(`Removing the staging directory ${staging}`);
        await run(`rm -rf ${shellQuote(staging)}`, 'removing the staging directory');
      }
    } catch (err) {
      if (ctx.signal.aborted || err instanceof ProvisionerError) throw err;
      throw new ProvisionerError(`${where}: ${(err as Error).message}`, {
        index: spec.index,
        lastLines: tail.last(),
        retryable: err instanceof SshDisconnectError || err instanceof SshConnectError,
      });
    }
  } finally {
    await rm(scratch, { recursive: true, force: true });
  }
}

interface GalaxyPlan {
  commands: string[];
  /** Roles were installed (in rolesPath), collections (in collectionsPath). */
  roles: boolean;
  collections: boolean;
  rolesPath: string;
  collectionsPath: string;
}

/** The ansible-galaxy commands for the requirements file (roles, collections, as it lists them). */
async function galaxyPlan(spec: AnsibleLocalProvisionerSpec, staging: string): Promise<GalaxyPlan> {
  const text = await readFile(spec.galaxyFile!, 'utf8');
  const roles = /^roles:/m.test(text);
  const collections = /^collections:/m.test(text);
  const file = shellQuote(posix.join(staging, basename(spec.galaxyFile!)));
  const rolesPath = spec.galaxyRolesPath ?? posix.join(staging, 'galaxy_roles');
  const collectionsPath = spec.galaxyCollectionsPath ?? posix.join(staging, 'galaxy_collections');
  const force = spec.galaxyForceInstall ? ' -f' : '';
  const commands: string[] = [];
  // A file without either key is the old roles-only format.
  if (roles || !collections) commands.push(`${spec.galaxyCommand} install -r ${file} -p ${shellQuote(rolesPath)}${force}`);
  if (collections) commands.push(`${spec.galaxyCommand} collection install -r ${file} -p ${shellQuote(collectionsPath)}${force}`);
  return { commands, roles: roles || !collections, collections, rolesPath, collectionsPath };
}

/** Where the playbook finds what galaxy installed and the uploaded collections (Packer's variables). */
function playbookEnvironment(spec: AnsibleLocalProvisionerSpec, staging: string, galaxy: GalaxyPlan | undefined): string {
  const collections = [...(galaxy?.collections ? [galaxy.collectionsPath] : []), ...(spec.collectionPaths.length > 0 ? [posix.join(staging, 'collections')] : [])];
  const vars: string[] = [];
  if (collections.length > 0) vars.push(`ANSIBLE_COLLECTIONS_PATH=$ANSIBLE_COLLECTIONS_PATH:${collections.map(shellQuote).join(':')}`);
  if (galaxy?.roles) vars.push(`ANSIBLE_ROLES_PATH=$ANSIBLE_ROLES_PATH:${shellQuote(galaxy.rolesPath)}`);
  return vars.length > 0 ? `${vars.join(' ')} ` : '';
}
