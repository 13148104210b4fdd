// Starts a simulator for a test: fast latencies, ephemeral API and SSH ports, a temp world
// removed on close. Use `t.after(() => sim.close())` (or `after`) to stop it.
import { startSimulator, type Simulator, type SimulatorOptions } from '../../src/sim/index.js';

export type { Simulator, SimulatorOptions };

export function startTestSimulator(options: SimulatorOptions = {}): Promise<Simulator> {
  return startSimulator({ latency: 'fast', port: 0, sshPort: 0, ...options });
}
