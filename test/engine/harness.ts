// Runs builds in-process against a test simulator: writes a template, loads it as `kiln build`
// does, records and runs each build, and reads back what the simulator holds for a build.
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { BuildRun, createBuildRecord, newBuildId, type BuildOutcome, type RunOptions } from '../../src/engine/index.js';
import { ScalewayClient } from '../../src/scaleway/index.js';
import { EventStore, type BuildEvent } from '../../src/store/index.js';
import { loadTemplate, redactSpec } from '../../src/template/index.js';
import { startTestSimulator, type Simulator, type SimulatorOptions } from '../helpers/sim.js';

export const SECRET = 'd7e9a1c2-5b3f-4e8a-9c6d-2f1b0a3e4c5d';
export const PROJECT = '3f1a2b4c-5d6e-4f70-8a9b-0c1d2e3f4a5b';

export interface Harness {
  sim: Simulator;
  dir: string;
  store: EventStore;
  dbPath: string;
  client: ScalewayClient;
  /** Writes a template (JSON) into the harness dir and returns its path. */
  template(body: unknown, name?: string): string;
  /** Loads `templatePath` and runs all its builds at once; returns their outcomes in builder order. */
  build(
    templatePath: string,
    options?: Partial<Pick<RunOptions, 'onError' | 'leaseTtlMs' | 'serverLooks' | 'waitHistory' | 'cache' | 'keyPassphrase'>> & { vars?: Record<string, string>; env?: Record<string, string | undefined> },
  ): Promise<BuildOutcome[]>;
  /** What the simulator holds for a build (found by its kiln-build tag), Instance and Block API resources; `reader`: a client of one's own (e.g. one that outlasts injected faults). */
  inventory(buildId: string, reader?: ScalewayClient): Promise<{ servers: string[]; volumes: string[]; snapshots: string[]; images: string[] }>;
  events(buildId: string): BuildEvent[];
  close(): Promise<void>;
}

export async function startHarness(simOptions: SimulatorOptions = {}): Promise<Harness> {
  const sim = await startTestSimulator(simOptions);
  const dir = mkdtempSync(join(tmpdir(), 'kiln-engine-'));
  const dbPath = join(dir, 'state', 'kiln.db');
  const store = EventStore.open(dbPath);
  const env = { PATH: process.env.PATH, HOME: dir, SCW_API_URL: sim.apiUrl, SCW_SECRET_KEY: SECRET, SCW_DEFAULT_PROJECT_ID: PROJECT };
  const client = new ScalewayClient({ apiUrl: sim.apiUrl, zone: 'fr-par-1', secretKey: SECRET, projectId: PROJECT });
  let n = 0;
  return {
    sim,
    dir,
    store,
    dbPath,
    client,
    template(body, name) {
      const path = join(dir, name ?? `template-${++n}.json`);
      writeFileSync(path, JSON.stringify(body, null, 2));
      return path;
    },
    async build(templatePath, options = {}) {
      const loaded = await loadTemplate(templatePath, { env: { ...env, ...options.env }, vars: options.vars });
      const onError = options.onError ?? 'cleanup';
      const runs: BuildRun[] = [];
      for (const spec of loaded.builds) {
        const buildId = newBuildId();
        await createBuildRecord({
          store,
          spec,
          redacted: redactSpec(spec, loaded.sensitiveValues),
          templatePath,
          templateHash: loaded.templateHash,
          evaluation: loaded.evaluation,
          onError,
          buildId,
        });
        runs.push(new BuildRun({ store, buildId, spec, onError, stateDir: join(dir, 'state'), sshPortOverride: sim.sshPort, leaseTtlMs: options.leaseTtlMs, serverLooks: options.serverLooks, waitHistory: options.waitHistory, cache: options.cache, keyPassphrase: options.keyPassphrase }));
      }
      return Promise.all(runs.map((r) => r.run()));
    },
    async inventory(buildId, reader = client) {
      const tags = [`kiln-build=${buildId}`];
      return {
        servers: (await reader.listServers({ tags })).map((s) => s.id),
        // Local and block (SBS) ones alike.
        volumes: [...(await reader.listVolumes({ tags })), ...(await reader.block.listVolumes({ tags }))].map((v) => v.id),
        snapshots: [...(await reader.listSnapshots({ tags })), ...(await reader.block.listSnapshots({ tags }))].map((s) => s.id),
        images: (await reader.listImages({ tags })).map((i) => i.id),
      };
    },
    events(buildId) {
      return store.events(buildId);
    },
    async close() {
      store.close();
      await sim.close();
      rmSync(dir, { recursive: true, force: true });
    },
  };
}

/** A template with one scaleway builder and the given provisioners and builder keys. */
export function template(builder: Record<string, unknown> = {}, provisioners: unknown[] = []): Record<string, unknown> {
  return {
    builders: [
      {
        type: 'scaleway',
        image: 'ubuntu_jammy',
        zone: 'fr-par-1',
        commercial_type: 'DEV1-S',
        ssh_username: 'root',
        ...builder,
      },
    ],
    ...(provisioners.length > 0 ? { provisioners } : {}),
  };
}

export const types = (events: BuildEvent[]) => events.map((e) => e.type);
