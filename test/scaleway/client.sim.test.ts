// The Scaleway client against kiln's simulator (in-process, fast latency): every call, paging,
// and behaviour under injected faults (5xx, 429 with/without Retry-After, resets, ghost creates, slow answers).
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { startTestSimulator as startHelperSimulator, type Simulator, type SimulatorOptions } from '../helpers/sim.js';
import {
  AmbiguousError,
  InvalidArgumentsError,
  NetworkError,
  NotFoundError,
  OutOfStockError,
  RateLimitedError,
  ScalewayClient,
  ServerError,
  UnauthorizedError,
  type ClientOptions,
  type RequestReport,
  type RetryPolicy,
  type Server,
} from '../../src/scaleway/index.js';

const zone = 'fr-par-1';
/** The simulator checks the token only when told one; these tests tell it, so 401 is testable. */
const secretKey = randomUUID();
const projectId = randomUUID();
type TestSimulator = Simulator;
function startTestSimulator(options: SimulatorOptions = {}): Promise<Simulator> {
  return startHelperSimulator({ token: secretKey, ...options });
}
/** Fast retries so fault tests take milliseconds; jitter kept to exercise it. */
const quickRetry: RetryPolicy = { attempts: 8, initialMs: 5, factor: 2, maxMs: 40, jitter: 0.5, maxTotalMs: 10_000 };

function clientFor(sim: TestSimulator, reports: RequestReport[], extra: Partial<ClientOptions> = {}): ScalewayClient {
  return new ScalewayClient({
    apiUrl: sim.apiUrl,
    zone,
    secretKey,
    projectId,
    retry: quickRetry,
    onRequest: (r) => reports.push(r),
    ...extra,
  });
}

/** The status of the first POST reported (a 5xx the fault chose). */
const server5xx = (reports: RequestReport[]) => {
  const status = reports.find((r) => r.method === 'POST')!.status!;
  assert.ok(status >= 500, String(status));
  return status;
};

/** Polls (the API has no push) until `done` holds; bounded so a broken simulator fails the test instead of hanging it. */
async function until<T>(read: () => Promise<T>, done: (value: T) => boolean, what: string): Promise<T> {
  for (let i = 0; i < 400; i++) {
    const value = await read();
    if (done(value)) return value;
    await new Promise((r) => setTimeout(r, 25));
  }
  throw new Error(`timed out waiting for ${what}`);
}

async function newServer(client: ScalewayClient, tags: string[], name = `kiln-test-${randomUUID().slice(0, 8)}`): Promise<Server> {
  const image = await client.resolveMarketplaceImage('ubuntu_jammy', 'DEV1-S');
  return client.createServer({ name, commercial_type: 'DEV1-S', image: image.id, tags });
}

describe('ScalewayClient against the simulator', () => {
  let sim: TestSimulator;
  let client: ScalewayClient;
  const reports: RequestReport[] = [];

  before(async () => {
    sim = await startTestSimulator();
    client = clientFor(sim, reports);
  }, { timeout: 60_000 });
  after(async () => {
    await sim?.close();
  }, { timeout: 60_000 });

  test('catalogue: server types, bootscripts, marketplace labels', { timeout: 60_000 }, async () => {
    const types = await client.listServerTypes();
    assert.equal(types['DEV1-S']?.arch, 'x86_64');
    assert.ok(types['DEV1-S']!.ncpus > 0 && types['DEV1-S']!.ram > 0);
    const bootscripts = await client.listBootscripts();
    assert.ok(bootscripts.some((b) => b.architecture === 'x86_64'));
    const jammy = await client.resolveMarketplaceImage('ubuntu-jammy', 'dev1-s');
    assert.equal(jammy.arch, 'x86_64');
    const image = await client.getImage(jammy.id);
    assert.equal(image.id, jammy.id);
    assert.equal(image.zone, zone);
    await assert.rejects(client.resolveMarketplaceImage('ubuntu-jamy', 'DEV1-S'), (e: unknown) =>
      e instanceof NotFoundError && /Nearby labels: ubuntu_jammy/.test(e.message),
    );
  });

  test('a whole build: create, find by tags and name, power on and off, snapshot, image, clean up', { timeout: 60_000 }, async () => {
    const build = randomUUID();
    const tags = ['kiln', `kiln-build=${build}`, 'kiln-phase=server.create'];
    const server = await newServer(client, tags);
    assert.equal(server.state, 'stopped');
    assert.deepEqual(server.tags, tags);

    assert.deepEqual((await client.listServers({ tags: ['kiln', `kiln-build=${build}`] })).map((s) => s.id), [server.id]);
    assert.deepEqual((await client.listServers({ name: server.name })).map((s) => s.id), [server.id]);
    assert.equal((await client.getServer(server.id)).name, server.name);

    const renamed = await client.updateServer(server.id, { tags: [...tags, 'extra'] });
    assert.ok(renamed.tags.includes('extra'));
    await client.setUserData(server.id, 'cloud-init', '#cloud-config\n');

    const task = await client.serverAction(server.id, 'poweron');
    assert.ok(task.id);
    const running = await until(() => client.getServer(server.id), (s) => s.state === 'running', 'running');
    assert.ok(running.public_ip?.address);

    await client.serverAction(server.id, 'poweroff');
    const stopped = await until(() => client.getServer(server.id), (s) => s.state === 'stopped', 'stopped');
    const rootVolume = stopped.volumes['0']!;
    assert.ok(rootVolume.id);
    assert.equal((await client.getVolume(rootVolume.id)).id, rootVolume.id);
    assert.ok((await client.listVolumes()).some((v) => v.id === rootVolume.id));
    const taggedVolume = await client.updateVolume(rootVolume.id, { tags: ['kiln', `kiln-build=${build}`] });
    assert.ok(taggedVolume.tags?.includes(`kiln-build=${build}`));

    const snapshot = await client.createSnapshot({ name: `snap-${build}`, volume_id: rootVolume.id, tags: ['kiln', `kiln-build=${build}`] });
    assert.equal(snapshot.base_volume?.id, rootVolume.id);
    await until(() => client.getSnapshot(snapshot.id), (s) => s.state === 'available', 'snapshot available');
    assert.deepEqual((await client.listSnapshots({ name: `snap-${build}` })).map((s) => s.id), [snapshot.id]);
    assert.deepEqual((await client.listSnapshots({ tags: [`kiln-build=${build}`] })).map((s) => s.id), [snapshot.id]);

    const image = await client.createImage({ name: `img-${build}`, root_volume: snapshot.id, arch: 'x86_64', tags: ['kiln', `kiln-build=${build}`] });
    assert.equal(image.public, false);
    await until(() => client.getImage(image.id), (i) => i.state === 'available', 'image available');
    assert.deepEqual((await client.listImages({ name: `img-${build}`, public: false })).map((i) => i.id), [image.id]);
    assert.deepEqual((await client.listImages({ tags: [`kiln-build=${build}`] })).map((i) => i.id), [image.id]);

    await client.deleteServer(server.id);
    await assert.rejects(client.getServer(server.id), NotFoundError);
    await client.deleteImage(image.id);
    await client.deleteSnapshot(snapshot.id);
    await assert.rejects(client.getImage(image.id), NotFoundError);
    await assert.rejects(client.getSnapshot(snapshot.id), NotFoundError);
    // The root volume outlives a deleted server (Scaleway's rule), detached.
    const leftover = await client.getVolume(rootVolume.id);
    assert.equal(leftover.server, null);
    await client.deleteVolume(rootVolume.id);
    await assert.rejects(client.getVolume(rootVolume.id), NotFoundError);
  });

  test('terminate removes a running server with its volumes', { timeout: 60_000 }, async () => {
    const server = await newServer(client, ['kiln', `kiln-build=${randomUUID()}`]);
    await client.serverAction(server.id, 'poweron');
    await until(() => client.getServer(server.id), (s) => s.state === 'running', 'running');
    await client.serverAction(server.id, 'terminate');
    await until(() => client.getServer(server.id).then(() => false, (e) => e instanceof NotFoundError), (gone) => gone, 'terminated');
    await assert.rejects(client.getVolume(server.volumes['0']!.id), NotFoundError);
  });

  test('IPs: list by tag, delete of an unknown one is NotFound', { timeout: 60_000 }, async () => {
    // The client reserves no IP (servers get theirs with dynamic_ip_required): reserve through the API.
    const reserve = async (tags: string[]): Promise<string> => {
      const response = await fetch(`${sim.apiUrl}/instance/v1/zones/${zone}/ips`, {
        method: 'POST',
        headers: { 'X-Auth-Token': secretKey, 'Content-Type': 'application/json' },
        body: JSON.stringify({ project: projectId, tags }),
      });
      assert.equal(response.status, 201);
      return ((await response.json()) as { ip: { id: string } }).ip.id;
    };
    const build = `kiln-build=${randomUUID()}`;
    const tagged = [await reserve(['kiln', build]), await reserve(['kiln', build])];
    const other = await reserve(['kiln', `kiln-build=${randomUUID()}`]);
    assert.deepEqual((await client.listIps({ tags: [build] })).map((ip) => ip.id).sort(), [...tagged].sort());
    assert.ok((await client.listIps({ tags: ['kiln'] })).some((ip) => ip.id === other));
    await client.deleteIp(tagged[0]!);
    assert.deepEqual((await client.listIps({ tags: [build] })).map((ip) => ip.id), [tagged[1]]);
    await assert.rejects(client.deleteIp(randomUUID()), NotFoundError);
  });

  test('lists follow every page (X-Total-Count) and stop after the last one', { timeout: 60_000 }, async () => {
    const build = randomUUID();
    const tags = ['kiln', `kiln-build=${build}`];
    const created = [];
    for (let i = 0; i < 5; i++) created.push(await newServer(client, tags));
    const pagedReports: RequestReport[] = [];
    const paged = clientFor(sim, pagedReports, { pageSize: 2 });
    const found = await paged.listServers({ tags });
    assert.deepEqual(found.map((s) => s.id).sort(), created.map((s) => s.id).sort());
    // 5 items at 2 a page: pages 1..3, and no request for a 4th.
    assert.deepEqual(pagedReports.map((r) => new URL(r.path, 'http://x').searchParams.get('page')), ['1', '2', '3']);
    const pages: number[] = [];
    for await (const page of paged.listServersPaged({ tags })) pages.push(page.length);
    assert.deepEqual(pages, [2, 2, 1]);
    for (const s of created) await client.deleteServer(s.id);
  });

  test('non-retryable answers surface at once, after one attempt', { timeout: 60_000 }, async () => {
    const missing = randomUUID();
    let before = reports.length;
    await assert.rejects(client.getServer(missing), (e: unknown) =>
      e instanceof NotFoundError && e.status === 404 && e.resource === 'instance_server' && e.resourceId === missing,
    );
    assert.equal(reports.length - before, 1);

    before = reports.length;
    const image = await client.resolveMarketplaceImage('ubuntu_jammy', 'DEV1-S');
    before = reports.length;
    await assert.rejects(
      client.createServer({ name: 'bad', commercial_type: 'NOPE-XL', image: image.id, tags: ['kiln'] }),
      (e: unknown) => e instanceof InvalidArgumentsError && e.status === 400,
    );
    assert.equal(reports.length - before, 1);

    const wrongReports: RequestReport[] = [];
    const wrong = clientFor(sim, wrongReports, { secretKey: randomUUID() });
    await assert.rejects(wrong.listServers(), (e: unknown) => e instanceof UnauthorizedError && e.status === 401 && e.type === 'denied_authentication');
    assert.equal(wrongReports.length, 1);
  });

  test('a DELETE of a server that is running is refused with Scaleway\'s reason', { timeout: 60_000 }, async () => {
    const server = await newServer(client, ['kiln']);
    await client.serverAction(server.id, 'poweron');
    await until(() => client.getServer(server.id), (s) => s.state === 'running', 'running');
    await assert.rejects(client.deleteServer(server.id), (e: unknown) => e instanceof InvalidArgumentsError && e.retryable === false);
    await client.serverAction(server.id, 'terminate');
  });

  test('reports never contain the secret key', async () => {
    // Its own client and calls (not the other tests' reports): a success, a 404, a 400, a 401.
    const image = await client.resolveMarketplaceImage('ubuntu_jammy', 'DEV1-S');
    const own: RequestReport[] = [];
    const reporting = clientFor(sim, own);
    await reporting.listServers();
    await assert.rejects(reporting.getServer(randomUUID()), NotFoundError);
    await assert.rejects(reporting.createServer({ name: 'bad', commercial_type: 'NOPE-XL', image: image.id, tags: ['kiln'] }), InvalidArgumentsError);
    const wrongKey = randomUUID();
    await assert.rejects(clientFor(sim, own, { secretKey: wrongKey }).listServers(), UnauthorizedError);
    assert.deepEqual(own.map((r) => r.status), [200, 404, 400, 401]);
    const text = JSON.stringify(own);
    assert.ok(!text.includes(secretKey) && !text.includes(wrongKey), text);
    assert.ok(own.every((r) => r.path.startsWith('/') && r.attempt >= 1 && r.durationMs >= 0));
  });
});

describe('ScalewayClient under injected faults', () => {
  test('reads retry through 5xx and resets, and succeed', { timeout: 60_000 }, async (t) => {
    const sim = await startTestSimulator({ faults: { 'GET /servers/{id}': { '5xx': 0.3, reset: 0.3 } }, seed: 7 });
    t.after(() => sim.close());
    const reports: RequestReport[] = [];
    const client = clientFor(sim, reports);
    const server = await newServer(clientFor(sim, []), ['kiln']);
    for (let i = 0; i < 12; i++) assert.equal((await client.getServer(server.id)).id, server.id);
    const failed = reports.filter((r) => r.status !== 200);
    assert.ok(failed.some((r) => r.status !== null && r.status >= 500), 'some 5xx was injected and retried');
    assert.ok(failed.some((r) => r.status === null), 'some reset was injected and retried');
    assert.ok(failed.every((r) => r.retryInMs !== undefined && r.retryInMs <= quickRetry.maxMs));
    assert.ok(reports.some((r) => r.attempt > 1 && r.status === 200));
  });

  test('429 with Retry-After waits what the header says', { timeout: 60_000 }, async (t) => {
    const sim = await startTestSimulator({ faults: { 'GET /servers/{id}': { '429': 0.5, retry_after: 1 } }, seed: 3 });
    t.after(() => sim.close());
    const reports: RequestReport[] = [];
    const client = clientFor(sim, reports);
    const server = await newServer(clientFor(sim, []), ['kiln']);
    // Until one 429 has been met (and retried), so the test pays for one Retry-After wait only.
    for (let i = 0; i < 20 && !reports.some((r) => r.status === 429); i++) await client.getServer(server.id);
    const limited = reports.filter((r) => r.status === 429);
    assert.ok(limited.length > 0, 'the seeded fault produced a 429');
    assert.ok(limited.every((r) => r.retryInMs === 1000), `reported waits: ${limited.map((r) => r.retryInMs).join(', ')}`);
    assert.equal(reports.at(-1)?.status, 200);
  });

  test('429 without Retry-After backs off with jitter', { timeout: 60_000 }, async (t) => {
    const sim = await startTestSimulator({ faults: { 'GET /servers': { '429_no_retry_after': 0.5 } }, seed: 11 });
    t.after(() => sim.close());
    const reports: RequestReport[] = [];
    const client = clientFor(sim, reports);
    for (let i = 0; i < 10; i++) await client.listServers();
    const limited = reports.filter((r) => r.status === 429);
    assert.ok(limited.length > 0, 'the seeded fault produced a 429');
    for (const r of limited) {
      const base = Math.min(quickRetry.maxMs, quickRetry.initialMs * quickRetry.factor ** (r.attempt - 1));
      assert.ok(r.retryInMs! >= Math.floor(base * (1 - quickRetry.jitter)) && r.retryInMs! <= base, `attempt ${r.attempt}: ${r.retryInMs}`);
    }
  });

  test('a create answered 5xx or reset is AmbiguousError after exactly one attempt', { timeout: 60_000 }, async (t) => {
    for (const kind of ['5xx', 'reset'] as const) {
      const sim = await startTestSimulator({ faults: { 'POST /servers': { [kind]: 1 } }, seed: 1 });
      t.after(() => sim.close());
      const reports: RequestReport[] = [];
      const client = clientFor(sim, reports);
      const image = await client.resolveMarketplaceImage('ubuntu_jammy', 'DEV1-S');
      const tags = ['kiln', `kiln-build=${randomUUID()}`];
      await assert.rejects(
        client.createServer({ name: 'ambiguous', commercial_type: 'DEV1-S', image: image.id, tags }),
        (e: unknown) => e instanceof AmbiguousError && e.requestName === 'ambiguous' && e.retryable === false &&
          JSON.stringify(e.requestTags) === JSON.stringify(tags) && (kind === '5xx' ? e.cause instanceof ServerError : e.cause instanceof NetworkError),
        kind,
      );
      assert.equal(reports.filter((r) => r.method === 'POST').length, 1, `${kind}: one POST only`);
    }
  });

  test('ghost create: Ambiguous, and the server really exists, found by its tags', { timeout: 60_000 }, async (t) => {
    const sim = await startTestSimulator({ faults: { 'POST /servers': { ghost_create: 1 } }, seed: 1 });
    t.after(() => sim.close());
    const reports: RequestReport[] = [];
    const client = clientFor(sim, reports);
    const tags = ['kiln', `kiln-build=${randomUUID()}`, 'kiln-phase=server.create'];
    const error = await newServer(client, tags, 'ghost').then(() => undefined, (e: unknown) => e);
    assert.ok(error instanceof AmbiguousError, String(error));
    assert.equal(reports.filter((r) => r.method === 'POST').length, 1);
    const found = await client.listServers({ tags: error.requestTags });
    assert.equal(found.length, 1);
    assert.equal(found[0]!.name, 'ghost');
  });

  test('snapshot and image creates are Ambiguous too', { timeout: 60_000 }, async (t) => {
    const sim = await startTestSimulator({ faults: { 'POST /snapshots': { '5xx': 1 }, 'POST /images': { '5xx': 1 } }, seed: 1 });
    t.after(() => sim.close());
    const client = clientFor(sim, []);
    const server = await newServer(client, ['kiln']);
    await assert.rejects(client.createSnapshot({ name: 's', volume_id: server.volumes['0']!.id, tags: ['kiln'] }), AmbiguousError);
    const jammy = await client.resolveMarketplaceImage('ubuntu_jammy', 'DEV1-S');
    const base = await client.getImage(jammy.id);
    await assert.rejects(client.createImage({ name: 'i', root_volume: base.root_volume!.id, arch: 'x86_64', tags: ['kiln'] }), AmbiguousError);
  });

  test('a create refused with 429 is retried: Scaleway did not act on it', { timeout: 60_000 }, async (t) => {
    const sim = await startTestSimulator({ faults: { 'POST /servers': { '429_no_retry_after': 0.5 } }, seed: 5 });
    t.after(() => sim.close());
    const reports: RequestReport[] = [];
    const client = clientFor(sim, reports);
    const tags = ['kiln', `kiln-build=${randomUUID()}`];
    for (let i = 0; i < 6; i++) await newServer(client, tags, `s${i}`);
    assert.ok(reports.some((r) => r.method === 'POST' && r.status === 429));
    const names = (await client.listServers({ tags })).map((s) => s.name).sort();
    assert.deepEqual(names, ['s0', 's1', 's2', 's3', 's4', 's5']);
  });

  test('a DELETE whose first answer was lost, answered 404 on retry, is success', { timeout: 60_000 }, async (t) => {
    // ghost: the simulator deletes the server, then answers 500; the retry finds it gone (404).
    const sim = await startTestSimulator({ faults: { 'DELETE /servers/{id}': { ghost: 1 } }, seed: 1 });
    t.after(() => sim.close());
    const reports: RequestReport[] = [];
    const client = clientFor(sim, reports, { retry: { ...quickRetry, attempts: 3 } });
    const server = await newServer(clientFor(sim, []), ['kiln']);
    await client.deleteServer(server.id);
    const deletes = reports.filter((r) => r.method === 'DELETE');
    assert.deepEqual(deletes.map((r) => r.status), [500, 404], JSON.stringify(deletes));
    await assert.rejects(client.getServer(server.id), NotFoundError);
    // Without an earlier attempt that may have worked, a 404 is what it says.
    await assert.rejects(clientFor(sim, []).deleteServer(server.id), NotFoundError);
  });

  test('an action refused on retry after its first attempt may have worked is Ambiguous', { timeout: 60_000 }, async (t) => {
    // ghost: the simulator powers the server on, then answers 500; the retry is refused (poweron
    // is not allowed once starting) and the client says the outcome is uncertain.
    const sim = await startTestSimulator({ faults: { 'POST /servers/{id}/action': { ghost: 1 } }, seed: 1 });
    t.after(() => sim.close());
    const reports: RequestReport[] = [];
    const client = clientFor(sim, reports, { retry: { ...quickRetry, attempts: 3 } });
    const server = await newServer(clientFor(sim, []), ['kiln']);
    await assert.rejects(client.serverAction(server.id, 'poweron'), (e: unknown) =>
      e instanceof AmbiguousError && e.status === 400 && e.cause instanceof InvalidArgumentsError,
    );
    assert.deepEqual(reports.map((r) => r.status), [500, 400]);
    assert.notEqual((await client.getServer(server.id)).state, 'stopped');
  });

  test('a refusal of the account on an action\'s retry stands as it is: it is not taken for an earlier attempt having worked', { timeout: 60_000 }, async (t) => {
    // The first attempt meets a 502; the zone then runs out of stock before the retry.
    const sim = await startTestSimulator({ faults: { 'POST /servers/{id}/action': { '5xx': 1 } }, seed: 1 });
    t.after(() => sim.close());
    const reports: RequestReport[] = [];
    const client = clientFor(sim, [], {
      retry: { ...quickRetry, attempts: 3 },
      onRequest: (r) => {
        reports.push(r);
        if (r.method === 'POST') sim.setFaults({ 'POST /servers/{id}/action': { out_of_stock: 1 } });
      },
    });
    const server = await newServer(clientFor(sim, []), ['kiln']);
    await assert.rejects(client.serverAction(server.id, 'poweron'), (e: unknown) => e instanceof OutOfStockError && e.resource === 'DEV1-S' && !e.retryable);
    assert.deepEqual(reports.filter((r) => r.method === 'POST').map((r) => r.status), [server5xx(reports), 412]);
  });

  test('abort cancels an attempt in flight with the caller\'s reason', { timeout: 60_000 }, async (t) => {
    const sim = await startTestSimulator({ faults: { 'GET /servers/{id}': { slow: 1, slow_ms: 30_000 } }, seed: 1 });
    t.after(() => sim.close());
    const reports: RequestReport[] = [];
    const client = clientFor(sim, reports);
    const server = await newServer(client, ['kiln']);
    const controller = new AbortController();
    const call = client.getServer(server.id, { signal: controller.signal });
    // Abort once the simulator holds the request (it answers only after 30 s).
    await until(async () => sim.requestCounts()['GET /servers/{id}'] ?? 0, (n) => n === 1, 'the request to arrive');
    controller.abort(new Error('user pressed ctrl-c'));
    await assert.rejects(call, /user pressed ctrl-c/);
    assert.equal(reports.at(-1)?.error, 'aborted by the caller');
  });

  test('abort cancels a wait between attempts', { timeout: 60_000 }, async (t) => {
    const sim = await startTestSimulator({ faults: { 'GET /servers': { '429': 1, retry_after: 600 } }, seed: 1 });
    t.after(() => sim.close());
    const controller = new AbortController();
    const reports: RequestReport[] = [];
    // Abort as soon as the client announces its 10-minute wait.
    const client = clientFor(sim, reports, { retry: { ...quickRetry, maxTotalMs: 3_600_000 }, onRequest: (r) => {
      reports.push(r);
      if (r.retryInMs !== undefined) controller.abort(new Error('stop waiting'));
    } });
    await assert.rejects(client.listServers({}, { signal: controller.signal }), /stop waiting/);
    assert.equal(reports.length, 1);
    assert.equal(reports[0]!.retryInMs, 600_000);
  });

  test('the call deadline bounds retries: no wait that would outlast it', { timeout: 60_000 }, async (t) => {
    const sim = await startTestSimulator({ faults: { 'GET /servers': { '429': 1, retry_after: 600 } }, seed: 1 });
    t.after(() => sim.close());
    const reports: RequestReport[] = [];
    const client = clientFor(sim, reports);
    await assert.rejects(client.listServers({}, { deadlineMs: 5_000 }), (e: unknown) => e instanceof RateLimitedError && e.retryAfterMs === 600_000);
    assert.equal(reports.length, 1);
    assert.equal(reports[0]!.retryInMs, undefined);
  });

  test('a slow answer hits the per-attempt timeout: reads retry, creates are Ambiguous', { timeout: 60_000 }, async (t) => {
    const sim = await startTestSimulator({ faults: { 'GET /servers/{id}': { slow: 1, slow_ms: 30_000 }, 'POST /servers': { slow: 1, slow_ms: 30_000 } }, seed: 1 });
    t.after(() => sim.close());
    const reports: RequestReport[] = [];
    const client = clientFor(sim, reports, { requestTimeoutMs: 200, retry: { ...quickRetry, attempts: 2 } });
    await assert.rejects(client.getServer(randomUUID()), (e: unknown) => e instanceof NetworkError && e.type === 'timeout');
    assert.equal(reports.length, 2);
    await assert.rejects(newServer(client, ['kiln']), AmbiguousError);
    assert.equal(reports.filter((r) => r.method === 'POST').length, 1);
  });
});
