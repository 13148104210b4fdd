// The provision phase: one provisioner per phase run (the machine owns its retries and timeout),
// over the communicator, its output recorded in batches; and the batcher the post-processors share.
import { readFileSync } from 'node:fs';
import type { BuildFacts, PhaseInput } from '../../../machines/build.machine.js';
import { runProvisioner } from '../../provision/index.js';
import { fillBuildValues, type BuildValues } from '../../template/functions.js';
import { keyPath } from '../keys.js';
import { BuildError, type PhaseRuntime } from '../runtime.js';
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
  const provisioner = spec.provisioners[input.provisionerIndex];
  if (!provisioner) throw new BuildError(`internal: there is no provisioner #${input.provisionerIndex}`);
  const communicator = provisioner.type === 'shell-local' ? rt.communicator : await ensureCommunicator(rt, input, signal, input.phaseDeadlineAt);
  await rt.record(input, 'provisioner.started', { index: input.provisionerIndex, type: provisioner.type, templateIndex: provisioner.index });
  const batch = new OutputBatcher(rt, input, input.provisionerIndex);
  try {
    // The machine owns retries and timeouts (the provisioner's max_retries and timeout are its
    // policy), so the provisioner runs exactly one attempt here.
    await runProvisioner(
      fillBuildValues({ ...provisioner, maxRetries: 0, timeoutMs: 0, pauseBeforeMs: input.attempt === 1 ? provisioner.pauseBeforeMs : 0 }, buildValues(rt, input)),
      {
        communicator,
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
  await rt.record(input, 'provisioner.succeeded', { index: input.provisionerIndex });
  return {};
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
