// The SSH servers the communicator and provisioner suites run against: a real OpenSSH sshd,
// and (once available) the simulator's per-server SSH endpoint. Suites are parametrized over
// these so both behave the same for kiln.
import { startSshd, sshdUnavailableReason } from '../helpers/sshd.js';
import { connect, generateKeyPair, type Communicator, type ConnectOptions } from '../../src/ssh/index.js';
import { startTestSimulator } from '../helpers/sim.js';
import { launchServer, simApi, SIM_ZONE } from '../fixtures/sim-ssh/harness.js';

export interface SshTarget {
  host: string;
  port: number;
  username: string;
  privateKey: string;
  /** Drops every SSH connection from the server side (sshd killed / the server rebooted). */
  dropConnections(): Promise<void>;
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
  {
    // A server of the whole simulator (API + SSH gateway), reached like kiln reaches a real one:
    // key in the AUTHORIZED_KEY tag, poweron, SSH to its public address. Commands run confined
    // in the server's disk with the host's /usr.
    name: 'simulator server',
    unavailable: () => undefined,
    start: async () => {
      const sim = await startTestSimulator();
      try {
        const key = generateKeyPair();
        const server = await launchServer(sim, key.publicKey);
        return {
          host: server.address,
          port: sim.sshPort,
          username: 'root',
          privateKey: key.privateKey,
          // A reboot through the API: the simulator drops the server's SSH connections, then boots it again.
          dropConnections: () =>
            simApi(sim, 'POST', `/instance/v1/zones/${SIM_ZONE}/servers/${server.id}/action`, { action: 'reboot' }),
          stop: () => sim.close(),
        };
      } catch (err) {
        await sim.close();
        throw err;
      }
    },
    // Commands run confined, below the gateway: killing $PPID does not reach the connection.
    canKillSession: false,
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
