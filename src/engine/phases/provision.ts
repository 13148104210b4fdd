// The provision phase: one provisioner per phase run (the machine owns its retries and timeout),
// over the communicator, its output recorded in batches; and the batcher the post-processors share.
// Run after a failure (`reason: 'failure'`), it runs the template's error-cleanup-provisioner.
import { existsSync, readFileSync } from 'node:fs';
import type { BuildFacts, PhaseInput } from '../../../machines/build.machine.js';
import { runProvisioner, type SshTarget } from '../../provision/index.js';
import { fillBuildValues, type BuildValues } from '../../template/functions.js';
import { ERROR_CLEANUP_INDEX } from '../../template/spec.js';
import { keyPath } from '../keys.js';
import { BuildError, requireFact, type PhaseRuntime } from '../runtime.js';
import { ensureCommunicator } from './ssh.js';

/** Provisioner output is appended in batches: one event per flush, not one per line. */
export class OutputBatcher {
  private lines: { stream: 'stdout' | 'stderr'; line: string }[] = [];
  private timer: NodeJS.Timeout | undefined;

  constructor(
    private readonly rt: PhaseRuntime,
    private readonly input: PhaseInput,
    private readonly index: number,
    private readonly maxLines = 50,
    private readonly maxDelayMs = 100,
  ) {}

  push(stream: 'stdout' | 'stderr', line: string): void {
    this.lines.push({ stream, line });
    // (Output is kept in order by the log; a failed append stops the build through the log's onFailure.)
    if (this.lines.length >= this.maxLines) void this.flush().catch(() => undefined);
    else this.timer ??= setTimeout(() => void this.flush().catch(() => undefined), this.maxDelayMs);
  }

  async flush(): Promise<void> {
    clearTimeout(this.timer);
    this.timer = undefined;
    if (this.lines.length === 0) return;
    const lines = this.lines;
    this.lines = [];
    await this.rt.record(this.input, 'provision.output', { index: this.index, lines });
  }
}

export async function provision(rt: PhaseRuntime, input: PhaseInput, signal: AbortSignal): Promise<BuildFacts> {
  const { spec } = rt.deps;
  const errorCleanup = input.reason === 'failure';
  const provisioner = errorCleanup ? spec.errorCleanupProvisioner : spec.provisioners[input.provisionerIndex];
  if (!provisioner) throw new BuildError(`internal: there is no ${errorCleanup ? 'error-cleanup-provisioner' : `provisioner #${input.provisionerIndex}`}`);
  const communicator = provisioner.type === 'shell-local' ? rt.communicator : await ensureCommunicator(rt, input, signal, input.phaseDeadlineAt);
  const index = errorCleanup ? ERROR_CLEANUP_INDEX : input.provisionerIndex;
  await rt.record(input, 'provisioner.started', errorCleanup ? { errorCleanup: true, type: provisioner.type } : { index, type: provisioner.type, templateIndex: provisioner.index });
  const batch = new OutputBatcher(rt, input, index);
  const values = buildValues(rt, input);
  try {
    // The machine owns retries and timeouts (the provisioner's max_retries and timeout are its
    // policy), so the provisioner runs exactly one attempt here.
    await runProvisioner(
      fillBuildValues({ ...provisioner, maxRetries: 0, timeoutMs: 0, pauseBeforeMs: input.attempt === 1 ? provisioner.pauseBeforeMs : 0 }, values),
      {
        communicator,
        ...(provisioner.type === 'ansible' ? { target: sshTarget(rt, input) } : {}),
        buildValues: values,
        buildName: spec.name,
        builderType: 'scaleway',
        signal,
        onOutput: (o) => batch.push(o.stream, o.line),
      },
    );
  } catch (error) {
    // A dropped connection is re-made by the next attempt.
    if ((error as { retryable?: boolean }).retryable) rt.closeCommunicator();
    throw error;
  } finally {
    await batch.flush();
  }
  await rt.record(input, 'provisioner.succeeded', errorCleanup ? { errorCleanup: true } : { index });
  return {};
}

/** What Ansible connects to: the address kiln's own connection uses, with the build's key file. */
function sshTarget(rt: PhaseRuntime, input: PhaseInput): SshTarget {
  const { spec, buildId, stateDir, sshPortOverride } = rt.deps;
  if (spec.communicator.type !== 'ssh') throw new BuildError('internal: the ansible provisioner needs the ssh communicator');
  const c = spec.communicator;
  // The temporary key is on this machine once the connection is made (unsealed there if need be).
  const temporary = keyPath(stateDir, buildId);
  const privateKeyFile = c.privateKeyFile ?? (existsSync(temporary) ? temporary : undefined);
  return {
    host: requireFact(input.facts, 'publicIp', input.phase),
    port: sshPortOverride ?? c.port,
    username: c.username,
    ...(privateKeyFile ? { privateKeyFile } : {}),
  };
}

// `{{build \`X\`}}` in a provisioner: what Packer's build.* would give once the server is up.
function buildValues(rt: PhaseRuntime, input: PhaseInput): BuildValues {
  const { spec, buildId, stateDir, sshPortOverride } = rt.deps;
  const ssh = spec.communicator.type === 'ssh' ? spec.communicator : undefined;
  let publicKey = '';
  try {
    publicKey = readFileSync(`${keyPath(stateDir, buildId)}.pub`, 'utf8').trim();
  } catch {
    // A private key given in the template, or no SSH: there is no temporary public key to show.
  }
  return {
    ID: String(input.facts.serverId ?? ''),
    Host: String(input.facts.publicIp ?? ''),
    Port: ssh ? String(sshPortOverride ?? ssh.port) : '',
    User: ssh?.username ?? '',
    SSHPublicKey: publicKey,
    PackerRunUUID: buildId,
    ConnType: spec.communicator.type,
  };
}
