// The refusals of a real account (issue 30), as the simulator answers them — by a fault on a route,
// or by a quota it enforces itself — are read by the official SDK (@scaleway/sdk-client) into the
// same error classes as the real API's answers, and by kiln's client into the same typed errors.
// The real answers are the ones scaleway-sdk-go's own tests and reference/ record: the SDK reads
// them through its ordinary request path, from an HTTP client that answers them.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { Blockv1 } from '@scaleway/sdk-block';
import { createAdvancedClient, Errors, withHTTPClient, withProfile } from '@scaleway/sdk-client';
import { Instancev1 } from '@scaleway/sdk-instance';
import { errorFromResponse, ScalewayClient, type ScalewayError } from '../../src/scaleway/index.js';
import { startTestSimulator, type Simulator } from '../helpers/sim.js';
import { SDK_PROJECT, sdkClient } from './sdk-client.js';

const GB = 1_000_000_000;
const SECRET = '11111111-2222-4333-8444-555555555555';
const SOME_ID = '6a5e1b2c-3d4e-4f50-8a6b-7c8d9e0f1a2b';

/** Answers of the real API, as recorded by scaleway-sdk-go (scw/errors_test.go) and reference/. */
const REAL: Record<string, { status: number; body: Record<string, unknown> }> = {
  out_of_stock: { status: 412, body: { type: 'out_of_stock', resource: 'PRO2-XXS' } },
  instance_quota: { status: 403, body: { type: 'invalid_request_error', message: 'Quota exceeded for this resource.', resource: 'compute_snapshots_type_b_ssd_available' } },
  quotas_exceeded: { status: 403, body: { type: 'quotas_exceeded', details: [{ resource: 'volumes', quota: 2, current: 2 }] } },
  permissions_denied: { status: 403, body: { type: 'permissions_denied', details: [{ resource: 'instance_server', action: 'read' }] } },
  denied_authentication: { status: 401, body: { type: 'denied_authentication', message: 'authentication is denied', method: 'api_key', reason: 'not_found' } },
  precondition_failed: { status: 412, body: { type: 'precondition_failed', precondition: 'resource_still_in_use', help_message: 'volume is attached' } },
  locked: { status: 423, body: { type: 'locked', resource: 'instance_server', resource_id: SOME_ID } },
};

/** An SDK client whose every request is answered with `answer`, as the real API answered it. */
function realApiClient(answer: { status: number; body: Record<string, unknown> }) {
  return createAdvancedClient(
    withProfile({ accessKey: 'SCWXXXXXXXXXXXXXXXXX', secretKey: SECRET, defaultProjectId: SDK_PROJECT, defaultZone: 'fr-par-1', defaultRegion: 'fr-par', apiURL: 'https://api.scaleway.com' }),
    withHTTPClient(async () => new Response(JSON.stringify(answer.body), { status: answer.status, headers: { 'Content-Type': 'application/json' } })),
  );
}

async function failure(call: Promise<unknown>): Promise<Error> {
  try {
    await call;
  } catch (error) {
    return error as Error;
  }
  throw new Error('the call succeeded, but a refusal was expected');
}

/** What kiln's client makes of the same answer: by the simulator's reply, and from the real body. */
async function kilnClass(sim: Simulator, path: string, method: 'GET' | 'POST' | 'DELETE', real: { status: number; body: Record<string, unknown> }, json?: unknown) {
  const kiln = new ScalewayClient({ apiUrl: sim.apiUrl, zone: 'fr-par-1', secretKey: SECRET, projectId: SDK_PROJECT, retry: { attempts: 1, initialMs: 1, factor: 1, maxMs: 1, jitter: 0, maxTotalMs: 1 } });
  const fromSim = await failure(kiln.callApi({ method, path, json, kind: method === 'GET' ? 'read' : method === 'DELETE' ? 'delete' : 'create' }));
  const fromReal = errorFromResponse(real.status, JSON.stringify(real.body), { method, path });
  return { fromSim: fromSim as ScalewayError, fromReal };
}

test('each refusal of the simulator is the SDK error class of the real answer, and the same kiln error', { timeout: 120_000 }, async (t) => {
  const sim = await startTestSimulator({ quotas: { snapshots: 1, block_volumes: 1 } });
  t.after(() => sim.close());
  const instance = new Instancev1.API(sdkClient(sim));
  const block = new Blockv1.API(sdkClient(sim));
  const realInstance = (kind: string) => new Instancev1.API(realApiClient(REAL[kind]!));
  const realBlock = (kind: string) => new Blockv1.API(realApiClient(REAL[kind]!));
  const { server } = await instance.createServer({ name: 'base', commercialType: 'DEV1-S', image: 'ubuntu_jammy', protected: false });
  const volumeId = server!.volumes['0']!.id;
  const same = (a: Error, b: Error, cls: new (...args: never[]) => Error) => {
    assert.ok(a instanceof cls, `the simulator's answer: ${a.name}: ${a.message}`);
    assert.ok(b instanceof cls, `the real answer: ${b.name}: ${b.message}`);
  };

  // out_of_stock on a server create: the commercial type is named.
  sim.setFaults({ 'POST /servers': { out_of_stock: 1 } });
  const create = { name: 'x', commercialType: 'PRO2-XXS', image: 'ubuntu_jammy', protected: false } as const;
  const outOfStock = await failure(instance.createServer(create));
  same(outOfStock, await failure(realInstance('out_of_stock').createServer(create)), Errors.OutOfStockError);
  assert.equal((outOfStock as InstanceType<typeof Errors.OutOfStockError>).resource, 'PRO2-XXS');
  sim.setFaults({});

  // The Instance API's own quota answer, from a quota the simulator enforces (1 snapshot).
  await instance.createSnapshot({ name: 'first', volumeId });
  const instanceQuota = await failure(instance.createSnapshot({ name: 'second', volumeId }));
  same(instanceQuota, await failure(realInstance('instance_quota').createSnapshot({ name: 'second', volumeId })), Errors.QuotasExceededError);
  assert.deepEqual((instanceQuota as InstanceType<typeof Errors.QuotasExceededError>).list.map((q) => q.resource), ['compute_snapshots_type_l_ssd_available']);

  // The standard quotas_exceeded of the Block API (1 volume), with its figures.
  const volume = { name: 'v', fromEmpty: { size: 10 * GB }, perfIops: 5000 } as const;
  await block.createVolume(volume);
  const blockQuota = await failure(block.createVolume(volume));
  same(blockQuota, await failure(realBlock('quotas_exceeded').createVolume(volume)), Errors.QuotasExceededError);
  assert.deepEqual((blockQuota as InstanceType<typeof Errors.QuotasExceededError>).list.map((q) => [q.resource, q.quota, q.current]), [['block_storage_volumes', 1, 1]]);

  // permissions_denied, denied_authentication, locked: faults on any route.
  sim.setFaults({ 'GET /servers/{id}': { permissions_denied: 1 }, 'GET /servers': { denied_authentication: 1 }, 'POST /servers/{id}/action': { locked: 1 }, 'DELETE /block/volumes/{id}': { precondition_failed: 1 } });
  const denied = await failure(instance.getServer({ serverId: server!.id }));
  same(denied, await failure(realInstance('permissions_denied').getServer({ serverId: server!.id })), Errors.PermissionsDeniedError);
  assert.deepEqual((denied as InstanceType<typeof Errors.PermissionsDeniedError>).list, [{ action: 'read', resource: 'instance_server' }]);
  same(await failure(instance.listServers({})), await failure(realInstance('denied_authentication').listServers({})), Errors.DeniedAuthenticationError);
  const lockedError = await failure(instance.serverAction({ serverId: server!.id, action: 'poweron' }));
  same(lockedError, await failure(realInstance('locked').serverAction({ serverId: server!.id, action: 'poweron' })), Errors.ResourceLockedError);
  assert.equal((lockedError as InstanceType<typeof Errors.ResourceLockedError>).resourceId, server!.id);
  const blockVolumes = await block.listVolumes({ projectId: SDK_PROJECT, includeDeleted: false });
  const precondition = await failure(block.deleteVolume({ volumeId: blockVolumes.volumes[0]!.id }));
  same(precondition, await failure(realBlock('precondition_failed').deleteVolume({ volumeId: SOME_ID })), Errors.PreconditionFailedError);
  sim.setFaults({});

  // kiln's client: the simulator's answer and the real one make the same typed error.
  const kinds: [string, string, 'GET' | 'POST' | 'DELETE', string, unknown?][] = [
    ['out_of_stock', 'POST /servers', 'POST', '/instance/v1/zones/fr-par-1/servers', { name: 'x', commercial_type: 'PRO2-XXS', image: 'ubuntu_jammy', project: SDK_PROJECT }],
    ['permissions_denied', 'GET /servers/{id}', 'GET', `/instance/v1/zones/fr-par-1/servers/${server!.id}`],
    ['denied_authentication', 'GET /servers', 'GET', '/instance/v1/zones/fr-par-1/servers'],
    ['locked', 'POST /servers/{id}/action', 'POST', `/instance/v1/zones/fr-par-1/servers/${server!.id}/action`, { action: 'poweron' }],
    ['precondition_failed', 'DELETE /block/volumes/{id}', 'DELETE', `/block/v1/zones/fr-par-1/volumes/${SOME_ID}`],
  ];
  for (const [kind, route, method, path, json] of kinds) {
    sim.setFaults({ [route]: { [kind]: 1 } });
    const { fromSim, fromReal } = await kilnClass(sim, path, method, REAL[kind]!, json);
    assert.equal(fromSim.name, fromReal.name, `${kind}: ${fromSim.message}`);
    assert.equal(fromSim.retryable, false, kind);
  }
  sim.setFaults({});
  const quotaSim = await kilnClass(sim, '/instance/v1/zones/fr-par-1/snapshots', 'POST', REAL.instance_quota!, { name: 'third', volume_id: volumeId, project: SDK_PROJECT });
  assert.deepEqual([quotaSim.fromSim.name, quotaSim.fromReal.name], ['QuotaExceededError', 'QuotaExceededError']);
});
