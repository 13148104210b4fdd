// Starts a simulator for a test: fast latencies, ephemeral API and SSH ports, a temp world
// removed on close. Use `t.after(() => sim.close())` (or `after`) to stop it.
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before } from 'node:test';
import { ScalewayClient } from '../../src/scaleway/index.js';
import { startSimulator, type Simulator, type SimulatorOptions } from '../../src/sim/index.js';

export type { Simulator, SimulatorOptions };

export function startTestSimulator(options: SimulatorOptions = {}): Promise<Simulator> {
  return startSimulator({ latency: 'fast', port: 0, sshPort: 0, ...options });
}

/** What a test file's builds run against: a simulator, a scratch folder and an API client of the test project. */
export interface SimulatedCloud {
  sim: Simulator;
  dir: string;
  client: ScalewayClient;
}

/**
 * A simulated cloud for a whole test file, started before its tests and stopped (its scratch
 * folder removed) after them. Its fields are set once `before` has run.
 */
export function simulatedCloudForFile(prefix: string, credentials: { secretKey: string; projectId: string }): SimulatedCloud {
  const cloud = {} as SimulatedCloud;
  before(async () => {
    cloud.sim = await startTestSimulator();
    cloud.dir = mkdtempSync(join(tmpdir(), prefix));
    cloud.client = new ScalewayClient({ apiUrl: cloud.sim.apiUrl, zone: 'fr-par-1', ...credentials });
  }, { timeout: 60_000 });
  after(async () => {
    await cloud.sim?.close();
    if (cloud.dir) rmSync(cloud.dir, { recursive: true, force: true });
  }, { timeout: 60_000 });
  return cloud;
}
