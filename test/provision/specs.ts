// Provisioner specs with Packer's defaults, as the template loader produces them, for tests.
import type { FileProvisionerSpec, ShellLocalProvisionerSpec, ShellProvisionerSpec } from '../../src/template/spec.js';
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
