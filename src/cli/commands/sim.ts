// `kiln sim`: runs the Scaleway-compatible simulator in the foreground until Ctrl-C/SIGTERM.
import type { CommandModule } from 'yargs';
import { FAULT_KINDS } from '../../sim/faults.js';
import { QUOTA_KINDS } from '../../sim/quotas.js';
import { REFUSAL_KINDS } from '../../sim/refusals.js';

interface SimArgs {
  host: string;
  port: number;
  'ssh-port'?: number;
  token?: string;
  latency: string;
  faults?: string;
  quotas?: string;
  seed?: number;
  'state-dir'?: string;
  unconfined: boolean;
}

export const simCommand: CommandModule<object, SimArgs> = {
  command: 'sim',
  describe: 'Run a Scaleway API simulator (Instance API + marketplace + SSH) on this machine',
  builder: (yargs) =>
    yargs
      .option('host', { type: 'string', default: '127.0.0.1', describe: 'API listen address' })
      .option('port', { type: 'number', default: 4242, describe: 'API port (0 = any free port)' })
      .option('ssh-port', { type: 'number', describe: 'SSH port of every simulated server (default: 22 if free, else 2222; 0 = any)' })
      .option('token', { type: 'string', describe: 'Accept only this X-Auth-Token (default: any non-empty token)' })
      .option('latency', {
        type: 'string',
        default: 'fast',
        describe:
          'State change latencies: fast, realistic (round figures), recorded (as real Scaleway took them in recorded traffic: stops of about a minute), or JSON ms per transition, e.g. \'{"boot":2000,"stop":1000,"snapshot":500,"image":500}\'',
      })
      .option('faults', { type: 'string', describe:
          'JSON fault probabilities per route, e.g. \'{"POST /servers":{"5xx":0.2},"*":{"429":0.05}}\'. Kinds: ' +
          // From the simulator's one list, so that the help names every kind it knows.
          FAULT_KINDS.filter((k) => !(REFUSAL_KINDS as readonly string[]).includes(k)).map((k) => (k === 'slow' ? 'slow (+slow_ms)' : k)).join(', ') +
          `, and the refusals of a real account: ${REFUSAL_KINDS.join(', ')}`,
      })
      .option('quotas', { type: 'string', describe:
          'JSON quotas the simulator enforces per organization, e.g. \'{"snapshots":2,"servers":1}\'. Kinds: ' + QUOTA_KINDS.join(', '),
      })
      .option('seed', { type: 'number', describe: 'Seed for reproducible faults and latency spread' })
      .option('state-dir', { type: 'string', describe: 'Keep the simulated world in this directory (survives restarts)' })
      .option('unconfined', { type: 'boolean', default: false, describe: 'Run SSH commands on the host without confinement (unsafe; explicit opt-in)' }),
  handler: async (args) => {
    const { startSimulator } = await import('../../sim/index.js');
    let sim;
    try {
      sim = await startSimulator({
        host: args.host,
        port: args.port,
        sshPort: args['ssh-port'],
        token: args.token,
        latency: args.latency,
        faults: args.faults,
        quotas: args.quotas,
        seed: args.seed,
        stateDir: args['state-dir'],
        unconfined: args.unconfined,
      });
    } catch (error) {
      const err = error as NodeJS.ErrnoException;
      // Bad options, or a state directory another simulator holds: the user's input to change (exit 2).
      const invalidInput = err.name === 'StateDirInUseError' || err.message.startsWith('latency:') || err.message.startsWith('faults:') || err.message.startsWith('quotas:');
      const hint = err.code === 'EADDRINUSE' ? ' (another process uses that address; pick another with --port or --ssh-port)' : '';
      process.stderr.write(`kiln sim: ${err.message}${hint}\n`);
      process.exit(invalidInput ? 2 : 1);
    }
    // Any UUID is a valid secret key for the simulator unless --token pins one; any project UUID works.
    const secret = args.token === undefined ? '00000000-0000-4000-8000-000000000000' : '<your --token>';
    process.stdout.write(
      [
        `kiln sim: Scaleway API simulator running${args.unconfined ? ' (SSH commands UNCONFINED)' : ''}`,
        `  API: ${sim.apiUrl}`,
        `  SSH: port ${sim.sshPort} on each running server's own 127.x.y.z address`,
        `  Try: SCW_API_URL=${sim.apiUrl} SCW_SECRET_KEY=${secret} SCW_DEFAULT_PROJECT_ID=00000000-0000-4000-8000-00000000c1a7 kiln build examples/basic.json`,
        ...(sim.sshPort === 22 ? [] : [`  (SSH is not on port 22 here: set "ssh_port": ${sim.sshPort} in the template's builder)`]),
        `Press Ctrl-C to stop.`,
        '',
      ].join('\n'),
    );
    const running = sim;
    let stopping = false;
    const stop = (): void => {
      if (stopping) return;
      stopping = true;
      running.close().then(
        () => process.exit(0),
        (error: unknown) => {
          process.stderr.write(`kiln sim: stopping failed: ${(error as Error).message}\n`);
          process.exit(1);
        },
      );
    };
    process.on('SIGINT', stop);
    process.on('SIGTERM', stop);
  },
};
