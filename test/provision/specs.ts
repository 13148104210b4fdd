// Provisioner specs with Packer's defaults, as the template loader produces them, for tests.
import type { AnsibleLocalProvisionerSpec, AnsibleProvisionerSpec, FileProvisionerSpec, ShellLocalProvisionerSpec, ShellProvisionerSpec } from '../../src/template/spec.js';
import type { ProvisionContext, ProvisionOutput } from '../../src/provision/index.js';
import type { Communicator } from '../../src/ssh/index.js';

const common = { index: 0, pauseBeforeMs: 0, maxRetries: 0, timeoutMs: 0 };

export function shellSpec(overrides: Partial<ShellProvisionerSpec>): ShellProvisionerSpec {
  return {
    ...common,
    type: 'shell',
    scripts: [],
    environmentVars: [],
    envVarFormat: "%s='%s' ",
    useEnvVarFile: false,
    executeCommand: 'chmod +x {{.Path}}; {{.Vars}} {{.Path}}',
    inlineShebang: '/bin/sh -e',
    inlineShebangSet: false,
    remoteFolder: '/tmp',
    binary: false,
    skipClean: false,
    startRetryTimeoutMs: 300_000,
    pauseAfterMs: 0,
    expectDisconnect: false,
    validExitCodes: [0],
    ...overrides,
  };
}

export function fileSpec(overrides: Partial<FileProvisionerSpec> & Pick<FileProvisionerSpec, 'sources' | 'destination'>): FileProvisionerSpec {
  return { ...common, type: 'file', direction: 'upload', ...overrides };
}

export function shellLocalSpec(overrides: Partial<ShellLocalProvisionerSpec>): ShellLocalProvisionerSpec {
  return {
    ...common,
    type: 'shell-local',
    scripts: [],
    environmentVars: [],
    envVarFormat: "%s='%s' ",
    executeCommand: ['/bin/sh', '-c', '{{.Vars}} {{.Script}}'],
    inlineShebang: '/bin/sh -e',
    validExitCodes: [0],
    ...overrides,
  };
}

/** A context that records every output line. */
export function recordingContext(
  communicator: Communicator | undefined,
  extra: Partial<ProvisionContext> = {},
): ProvisionContext & { output: ProvisionOutput[]; lines(stream?: 'stdout' | 'stderr'): string[] } {
  const output: ProvisionOutput[] = [];
  return {
    communicator,
    buildName: 'test-build',
    builderType: 'scaleway',
    signal: new AbortController().signal,
    retryDelayMs: 10,
    onOutput: (o) => output.push(o),
    ...extra,
    output,
    lines: (stream) => output.filter((o) => !stream || o.stream === stream).map((o) => o.line),
  };
}

export function ansibleSpec(overrides: Partial<AnsibleProvisionerSpec> & Pick<AnsibleProvisionerSpec, 'playbookFile'>): AnsibleProvisionerSpec {
  return {
    ...common,
    type: 'ansible',
    command: 'ansible-playbook',
    extraArguments: [],
    ansibleEnvVars: [],
    sshExtraArgs: [],
    groups: [],
    emptyGroups: [],
    hostAlias: 'default',
    keepInventoryFile: false,
    galaxyCommand: 'ansible-galaxy',
    galaxyForceInstall: false,
    galaxyForceWithDeps: false,
    useSftp: false,
    ...overrides,
  };
}

export function ansibleLocalSpec(overrides: Partial<AnsibleLocalProvisionerSpec> & Pick<AnsibleLocalProvisionerSpec, 'playbookFiles'>): AnsibleLocalProvisionerSpec {
  return {
    ...common,
    type: 'ansible-local',
    singlePlaybook: overrides.playbookFiles.length === 1,
    playbookPaths: [],
    rolePaths: [],
    collectionPaths: [],
    inventoryGroups: [],
    extraArguments: [],
    command: 'PYTHONUNBUFFERED=1 ansible-playbook',
    cleanStagingDirectory: false,
    galaxyCommand: 'ansible-galaxy',
    galaxyForceInstall: false,
    ...overrides,
  };
}
