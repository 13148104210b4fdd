// The SSH servers the communicator and provisioner suites run against: a real OpenSSH sshd,
// and (once available) the simulator's per-server SSH endpoint. Suites are parametrized over
// these so both behave the same for kiln.
import { startSshd, sshdUnavailableReason } from '../helpers/sshd.js';
import { connect, type Communicator, type ConnectOptions } from '../../src/ssh/index.js';

export interface SshTarget {
  host: string;
  port: number;
  username: string;
  privateKey: string;
  stop(): Promise<void>;
}

export interface TargetKind {
  name: string;
  /** Why this target cannot run here, or undefined. */
  unavailable(): string | undefined;
  start(): Promise<SshTarget>;
  /** Whether `kill -9 $PPID` from a command drops the SSH connection (it kills sshd's session process). */
  canKillSession: boolean;
}

export const targets: TargetKind[] = [
  {
    name: 'OpenSSH sshd',
    unavailable: sshdUnavailableReason,
    start: () => startSshd(),
    canKillSession: true,
  },
];

export function connectTo(target: SshTarget, extra: Partial<ConnectOptions> = {}): Promise<Communicator> {
  return connect({
    host: target.host,
    port: target.port,
    username: target.username,
    privateKey: target.privateKey,
    timeoutMs: 15_000,
    ...extra,
  });
}

/** Runs a command and returns its stdout lines, failing on a non-zero exit. */
export async function run(communicator: Communicator, command: string): Promise<string[]> {
  const lines: string[] = [];
  const errors: string[] = [];
  const result = await communicator.exec(command, {
    onLine: (stream, line) => (stream === 'stdout' ? lines : errors).push(line),
  });
  if (result.exitCode !== 0) throw new Error(`"${command}" exited ${result.exitCode ?? result.signal}: ${errors.join('\n')}`);
  return lines;
}
