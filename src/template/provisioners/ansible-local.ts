// The `ansible-local` provisioner as packer-plugin-ansible (v1.1.6) writes it: Ansible runs on the
// server (which must have it), from a staging directory kiln uploads the playbooks and their
// files to. Local paths must exist when the template is read.
import type { FieldReader } from '../fields.js';
import { localPath, localPaths, type LocalPathContext } from './ansible.js';
import type { AnsibleLocalProvisionerSpec, ProvisionerCommon } from '../spec.js';
import { COMMON_KEYS, UNSUPPORTED_COMMON } from './common.js';

const ANSIBLE_LOCAL_KEYS = [
  'playbook_file', 'playbook_files', 'playbook_dir', 'playbook_paths', 'role_paths', 'collection_paths', 'group_vars',
  'host_vars', 'inventory_file', 'inventory_groups', 'extra_arguments', 'command', 'staging_directory',
  'clean_staging_directory', 'galaxy_file', 'galaxy_command', 'galaxy_force_install', 'galaxy_roles_path',
  'galaxy_collections_path',
];

/** Packer's default command, without ANSIBLE_FORCE_COLOR: kiln's log is text, not a terminal. */
export const ANSIBLE_LOCAL_COMMAND = 'PYTHONUNBUFFERED=1 ansible-playbook';

export function readAnsibleLocal(reader: FieldReader, common: ProvisionerCommon, ctx: LocalPathContext): AnsibleLocalProvisionerSpec {
  reader.checkKeys([...COMMON_KEYS, ...ANSIBLE_LOCAL_KEYS], UNSUPPORTED_COMMON);
  const playbookFile = localPath(reader, ctx, 'playbook_file', 'file');
  const playbookFiles = localPaths(reader, ctx, 'playbook_files', 'file');
  if (playbookFile !== undefined && playbookFiles.length > 0) ctx.problems.add(reader.prefix, 'only one of "playbook_file" and "playbook_files" may be set');
  if (playbookFile === undefined && playbookFiles.length === 0) {
    ctx.problems.add(reader.path('playbook_file'), 'the ansible-local provisioner needs "playbook_file" (or "playbook_files")', 'the playbook to run on the server, e.g. "playbook.yml"');
  }
  const optional = <K extends string, V>(key: K, value: V | undefined): Partial<Record<K, V>> => (value === undefined ? {} : ({ [key]: value } as Record<K, V>));
  return {
    type: 'ansible-local',
    ...common,
    playbookFiles: playbookFile !== undefined ? [playbookFile] : playbookFiles,
    singlePlaybook: playbookFile !== undefined,
    ...optional('playbookDir', localPath(reader, ctx, 'playbook_dir', 'directory')),
    playbookPaths: localPaths(reader, ctx, 'playbook_paths', 'directory'),
    rolePaths: localPaths(reader, ctx, 'role_paths', 'directory'),
    collectionPaths: localPaths(reader, ctx, 'collection_paths', 'directory'),
    ...optional('groupVars', localPath(reader, ctx, 'group_vars', 'directory')),
    ...optional('hostVars', localPath(reader, ctx, 'host_vars', 'directory')),
    ...optional('inventoryFile', localPath(reader, ctx, 'inventory_file', 'file')),
    inventoryGroups: reader.stringList('inventory_groups') ?? [],
    extraArguments: reader.stringList('extra_arguments') ?? [],
    command: reader.string('command') ?? ANSIBLE_LOCAL_COMMAND,
    ...optional('stagingDirectory', reader.string('staging_directory')),
    cleanStagingDirectory: reader.bool('clean_staging_directory') ?? false,
    ...optional('galaxyFile', localPath(reader, ctx, 'galaxy_file', 'file')),
    galaxyCommand: reader.string('galaxy_command') ?? 'ansible-galaxy',
    galaxyForceInstall: reader.bool('galaxy_force_install') ?? false,
    ...optional('galaxyRolesPath', reader.string('galaxy_roles_path')),
    ...optional('galaxyCollectionsPath', reader.string('galaxy_collections_path')),
  };
}
