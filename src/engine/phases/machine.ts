// What happens on the machine between provisioning and shutdown (reference: scaleway-modern-api.md
// §4–5): `user_data.wait` waits for cloud-init to finish the user data (the plugin only sleeps
// user_data_timeout), and `machine.cleanup` empties the machine-id files
// (cleanup_machine_related_data) so that every server made from the image gets its own, and takes
// the build's temporary SSH key out of root's authorized_keys, so that it opens no server made
// from the image.
import type { BuildFacts, PhaseInput } from '../../../machines/build.machine.js';
import { USER_DATA_WAIT_DEFAULT_MS } from '../../../machines/policy.js';
import { pollUntil, sleep, WaitTimeoutError } from '../../scaleway/index.js';
import type { Communicator } from '../../ssh/index.js';
import { formatDuration } from '../../template/duration.js';
import { BuildError, type PhaseRuntime } from '../runtime.js';
import { clearTemporaryKey, ensureCommunicator } from './ssh.js';
import { getServerOrMissing } from './server.js';

/** Runs a command and collects its output (stdout and stderr, in order). */
async function run(communicator: Communicator, command: string, signal: AbortSignal): Promise<{ exitCode: number | null; output: string }> {
  const lines: string[] = [];
  const result = await communicator.exec(command, { signal, onLine: (_stream, line) => lines.push(line) });
  return { exitCode: result.exitCode, output: lines.join('\n') };
}

/** The `status:` line of `cloud-init status --long` (`not started`, `running`, `done`, `error`, `disabled`). */
export function cloudInitStatus(output: string): string | undefined {
  return /^status:\s*(.+?)\s*$/m.exec(output)?.[1];
}

/**
 * How a finished cloud-init run went, from `cloud-init status --long`: `cloud-init done`, or, when
 * it logged warnings (a YAML or schema problem in the cloud-config, a key it could not apply —
 * cloud-init 23.4+ calls this `degraded done` and exits 2), the warnings themselves.
 */
export function cloudInitOutcome(status: string, output: string): string {
  const extended = /^extended_status:\s*(.+?)\s*$/m.exec(output)?.[1];
  if (!extended?.startsWith('degraded')) return `cloud-init ${status}`;
  const warnings = /^recoverable_errors:\s*\n([\s\S]*)$/m.exec(output)?.[1] ?? '';
  const listed = [...warnings.matchAll(/^\s+- (.+)$/gm)].map((m) => m[1]!.trim());
  return `cloud-init ${extended}${listed.length > 0 ? `, with warnings: ${listed.join('; ')}` : ''}`;
}

/**
 * user_data.wait. With SSH: polls `cloud-init status --long` until cloud-init is done (or absent),
 * up to user_data_timeout (kiln's 10m when it is 0); an `error` status fails the build with
 * cloud-init's own report. Without SSH: waits user_data_timeout, as the plugin does. The end of
 * the wait is recorded when it starts, so a retry or a resume does not start the clock again.
 */
export async function userDataWait(rt: PhaseRuntime, input: PhaseInput, signal: AbortSignal): Promise<BuildFacts> {
  const { spec } = rt.deps;
  const ssh = spec.communicator.type === 'ssh';
  const timeoutMs = spec.userDataTimeoutMs || USER_DATA_WAIT_DEFAULT_MS;
  let started = (await rt.last('user_data.wait.started'));
  // Recorded as done (a crash before the phase's own end was recorded): nothing left to wait for.
  if (started && ((await rt.last('user_data.done'))?.seq ?? 0) > started.seq) return {};
  if (!started) {
    await rt.record(input, 'user_data.wait.started', { mode: ssh ? 'cloud-init' : 'timeout', timeoutMs, until: Date.now() + timeoutMs });
    started = (await rt.last('user_data.wait.started'))!;
  }
  const until = Number(started.data.until);

  if (!ssh) {
    await sleep(Math.max(0, until - Date.now()), signal);
    await rt.record(input, 'user_data.done', { outcome: `waited ${formatDuration(timeoutMs)} (user_data_timeout)` });
    return {};
  }

  const communicator = await ensureCommunicator(rt, input, signal, input.phaseDeadlineAt);
  let last = '';
  let outcome: string;
  try {
    outcome = await pollUntil(
      async () => {
        const { exitCode, output } = await run(communicator, 'cloud-init status --long', signal);
        last = output;
        if (exitCode === 127) return 'no cloud-init on the server: nothing to wait for';
        const status = cloudInitStatus(output);
        if (status === 'done' || status === 'disabled') return cloudInitOutcome(status, output);
        if (status === 'error') {
          // What the user data printed says more than the status: cloud-init logs it here.
          const log = await run(communicator, 'tail -n 20 /var/log/cloud-init-output.log', signal);
          const tail = log.exitCode === 0 && log.output.trim() !== '' ? `\nThe end of /var/log/cloud-init-output.log:\n${log.output}` : '';
          throw new BuildError(`cloud-init reported an error running the user data. \`cloud-init status --long\` says:\n${output}${tail}`);
        }
        if (status === undefined && exitCode !== 0) {
          throw new BuildError(`\`cloud-init status --long\` failed (exit ${exitCode ?? 'none'}):\n${output}`);
        }
        return undefined; // not started, running
      },
      { signal, deadlineAt: until, what: 'cloud-init to finish' },
    );
  } catch (error) {
    if (!(error instanceof WaitTimeoutError)) throw error;
    throw new BuildError(
      `cloud-init did not finish within ${formatDuration(timeoutMs)} (user_data_timeout). Its last \`cloud-init status --long\`:\n${last}\nRaise user_data_timeout if the user data needs longer`,
    );
  }
  await rt.record(input, 'user_data.done', { outcome });
  return {};
}

/** The files the plugin's cleanup_machine_related_data empties. */
export const MACHINE_ID_FILES = ['/etc/machine-id', '/var/lib/dbus/machine-id'] as const;

/**
 * machine.cleanup: empties the machine-id files (not removes: systemd makes a new id at first boot
 * of an empty one) when cleanup_machine_related_data asks, then takes the temporary key out of
 * authorized_keys — last, since a new connection is refused from then on.
 */
export async function machineCleanup(rt: PhaseRuntime, input: PhaseInput, signal: AbortSignal): Promise<BuildFacts> {
  // A server powered off behind kiln's back (or by a provisioner) answers no SSH: there is nothing
  // to clean on it, and waiting for SSH would only run out the phase's deadline. It is imaged as it is.
  const serverId = input.facts.serverId;
  if (typeof serverId === 'string' && (await getServerOrMissing(rt, input, serverId, signal)).state !== 'running') {
    rt.closeCommunicator();
    return {};
  }
  if (rt.deps.spec.cleanupMachineRelatedData) await emptyMachineId(rt, input, signal);
  await clearTemporaryKey(rt, input, signal);
  return {};
}

async function emptyMachineId(rt: PhaseRuntime, input: PhaseInput, signal: AbortSignal): Promise<void> {
  // Done already (a retry, or a resume after the key was cleared: no new connection would be let in).
  if (await rt.last('machine.cleaned')) return;
  const communicator = await ensureCommunicator(rt, input, signal, input.phaseDeadlineAt);
  const sudo = rt.deps.spec.communicator.type === 'ssh' && rt.deps.spec.communicator.username !== 'root' ? 'sudo ' : '';
  // -c: a file the image does not have is not created.
  const { exitCode, output } = await run(communicator, MACHINE_ID_FILES.map((f) => `${sudo}truncate -c -s 0 ${f}`).join(' && '), signal);
  if (exitCode !== 0) {
    throw new BuildError(`cleanup_machine_related_data: emptying ${MACHINE_ID_FILES.join(' and ')} failed (exit ${exitCode ?? 'none'}):\n${output}`);
  }
  await rt.record(input, 'machine.cleaned', { files: [...MACHINE_ID_FILES] });
}
