// Fabricating large event stores for the bench (10,000 builds, 100,000 events) through the
// store's own API, and tagged cloud resources through the simulator's HTTP API.
import { EventStore, type BuildEvent, type BuildRecord, type NewEvent } from '../../src/store/index.js';
import { SimApi } from './sim-api.js';
import { boundedAll } from './stats.js';

/** A build's log as the store returns it, to be copied into other builds. */
export interface SampleBuild {
  record: BuildRecord;
  events: BuildEvent[];
}

export function readSample(dbPath: string, buildId: string): SampleBuild {
  const store = EventStore.open(dbPath);
  try {
    const record = store.getBuild(buildId);
    if (!record) throw new Error(`no build ${buildId} in ${dbPath}`);
    return { record, events: store.events(buildId) };
  } finally {
    store.close();
  }
}

const asNew = (e: BuildEvent): NewEvent => ({ type: e.type, phase: e.phase, attempt: e.attempt, data: e.data });

/**
 * `count` copies of `sample` (new ids, same events) appended through the store's API. Fabrication
 * is not what is measured: it runs with synchronous=OFF, 500 builds per outer transaction.
 */
export function cloneBuilds(dbPath: string, sample: SampleBuild, count: number): string[] {
  const store = EventStore.open(dbPath);
  const ids: string[] = [];
  try {
    store.db.pragma('synchronous = OFF');
    const [first, ...rest] = sample.events.map(asNew);
    if (!first) throw new Error('the sample build has no events');
    for (let start = 0; start < count; start += 500) {
      store.db.transaction(() => {
        for (let i = start; i < Math.min(count, start + 500); i++) {
          const id = `bench${String(i).padStart(6, '0')}-${sample.record.id.slice(-6)}`;
          store.createBuild(
            {
              id,
              templatePath: sample.record.templatePath,
              templateHash: sample.record.templateHash,
              builderName: sample.record.builderName,
              spec: sample.record.spec,
              onError: sample.record.onError,
            },
            first,
          );
          store.appendMany(id, rest);
          ids.push(id);
        }
      })();
    }
  } finally {
    store.close();
  }
  return ids;
}

/** Appends `count` provisioner output events (one line each) to a build, in batches. */
export function appendOutputEvents(dbPath: string, buildId: string, count: number, provisionerIndex: number): void {
  const store = EventStore.open(dbPath);
  try {
    store.db.pragma('synchronous = OFF');
    const record = store.getBuild(buildId);
    for (let done = 0; done < count; ) {
      const n = Math.min(1000, count - done);
      const batch: NewEvent[] = Array.from({ length: n }, (_, i) => ({
        type: 'provision.output',
        phase: 'provision',
        attempt: record?.attempt ?? 1,
        data: { index: provisionerIndex, lines: [{ stream: 'stdout', line: `bench output line ${done + i}: ${'x'.repeat(60)}` }] },
      }));
      store.appendMany(buildId, batch);
      done += n;
    }
  } finally {
    store.close();
  }
}

/**
 * Tagged leftovers as a crashed build on another machine would leave them: `servers` stopped
 * servers (each with its root volume) and `volumes` detached volumes, tagged `kiln` and
 * `kiln-build=<an id this store never saw>`.
 */
export async function createTaggedResources(api: SimApi, servers: number, volumes: number, imageId: string): Promise<void> {
  const tags = (i: number) => ['kiln', `kiln-build=benchgc-${String(i % 97).padStart(2, '0')}`, 'kiln-phase=server.create'];
  await boundedAll(servers, 8, (i) =>
    api.ok('POST', '/servers', {
      name: `kiln-bench-gc-${i}`,
      commercial_type: 'DEV1-S',
      image: imageId,
      project: '6a0c2d6e-2f4a-4c7e-8a3b-1f9e8d7c6b5a',
      tags: tags(i),
    }),
  );
  await boundedAll(volumes, 8, (i) =>
    api.ok('POST', '/volumes', {
      name: `kiln-bench-gc-vol-${i}`,
      volume_type: 'l_ssd',
      size: 20_000_000_000,
      project: '6a0c2d6e-2f4a-4c7e-8a3b-1f9e8d7c6b5a',
      tags: tags(i),
    }),
  );
}
