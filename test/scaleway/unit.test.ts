// Pure parts of the Scaleway client: backoff, Retry-After, error mapping, zones, marketplace choice.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import {
  AccountRefusalError,
  AmbiguousError,
  ConflictError,
  LockedError,
  OutOfStockError,
  PreconditionFailedError,
  refusedForItsState,
  InvalidArgumentsError,
  NotFoundError,
  PermissionDeniedError,
  QuotaExceededError,
  RateLimitedError,
  ScalewayClient,
  ScalewayError,
  ServerError,
  TransientStateError,
  UnauthorizedError,
  backoffDelay,
  defaultRequestRetry,
  errorFromResponse,
  isRetryable,
  answerOf,
  NetworkError,
  normalizeZone,
  parseRetryAfter,
  pickMarketplaceImage,
  type MarketplaceImage,
  type RetryPolicy,
} from '../../src/scaleway/index.js';

const policy: RetryPolicy = { attempts: 6, initialMs: 100, factor: 2, maxMs: 1000, jitter: 0.5, maxTotalMs: 10_000 };
const req = { method: 'GET', path: '/instance/v1/zones/fr-par-1/servers/abc' };

test('backoffDelay grows by the factor, is capped at maxMs, and jitter only shortens it', () => {
  const none = () => 0;
  assert.deepEqual([1, 2, 3, 4, 5, 6].map((a) => backoffDelay(policy, a, none)), [100, 200, 400, 800, 1000, 1000]);
  const most = () => 1;
  assert.deepEqual([1, 2, 3, 4, 5].map((a) => backoffDelay(policy, a, most)), [50, 100, 200, 400, 500]);
  assert.equal(backoffDelay(policy, 3, () => 0.5), 300);
  assert.equal(backoffDelay({ ...policy, jitter: 0 }, 3, () => 0.9), 400);
  assert.equal(backoffDelay({ ...policy, jitter: 1 }, 3, () => 1), 0);
});

test('backoffDelay with Math.random stays inside [base*(1-jitter), base]', () => {
  for (let i = 0; i < 200; i++) {
    const d = backoffDelay(policy, 3);
    assert.ok(d >= 200 && d <= 400, `delay ${d} outside [200, 400]`);
  }
});

test('defaultRequestRetry is bounded in attempts and total time', () => {
  assert.ok(defaultRequestRetry.attempts > 1 && defaultRequestRetry.attempts <= 10);
  assert.ok(defaultRequestRetry.maxTotalMs > 0 && defaultRequestRetry.maxMs <= defaultRequestRetry.maxTotalMs);
});

test('parseRetryAfter reads seconds and HTTP dates; ignores junk', () => {
  assert.equal(parseRetryAfter('3'), 3000);
  assert.equal(parseRetryAfter(' 0 '), 0);
  const now = Date.parse('2026-01-01T00:00:00Z');
  assert.equal(parseRetryAfter('Thu, 01 Jan 2026 00:00:05 GMT', now), 5000);
  assert.equal(parseRetryAfter('Wed, 31 Dec 2025 23:00:00 GMT', now), 0);
  assert.equal(parseRetryAfter(null), undefined);
  assert.equal(parseRetryAfter('soon'), undefined);
});

test('404 not_found becomes NotFoundError naming the resource', () => {
  const e = errorFromResponse(404, JSON.stringify({ type: 'not_found', message: 'resource is not found', resource: 'instance_server', resource_id: 'abc' }), req);
  assert.ok(e instanceof NotFoundError && e instanceof ScalewayError);
  assert.equal(e.status, 404);
  assert.equal(e.type, 'not_found');
  assert.equal(e.resource, 'instance_server');
  assert.equal(e.resourceId, 'abc');
  assert.equal(e.retryable, false);
  assert.match(e.message, /no server abc/);
  assert.match(e.message, /GET \/instance\/v1\/zones\/fr-par-1\/servers\/abc/);
});

test('400 invalid_arguments keeps the details and names the argument in the message', () => {
  const body = { type: 'invalid_arguments', message: 'invalid argument(s)', details: [{ argument_name: 'commercial_type', reason: 'constraint', help_message: 'unknown type DEV9-XL' }] };
  const e = errorFromResponse(400, JSON.stringify(body), { method: 'POST', path: '/x' });
  assert.ok(e instanceof InvalidArgumentsError);
  assert.deepEqual(e.details, body.details);
  assert.match(e.message, /commercial_type: constraint \(unknown type DEV9-XL\)/);
  assert.equal(isRetryable(e), false);
});

test('400 invalid_request_error (legacy) keeps Scaleway\'s message', () => {
  const e = errorFromResponse(400, JSON.stringify({ type: 'invalid_request_error', message: 'server should be stopped' }), req);
  assert.ok(e instanceof InvalidArgumentsError);
  assert.equal(e.type, 'invalid_request_error');
  assert.match(e.message, /server should be stopped/);
});

test('401, 403 and quotas map to their own errors, none retryable', () => {
  const unauth = errorFromResponse(401, JSON.stringify({ type: 'denied_authentication', message: 'authentication is denied', method: 'api_key', reason: 'not_found' }), req);
  assert.ok(unauth instanceof UnauthorizedError);
  assert.match(unauth.message, /SCW_SECRET_KEY/);
  const denied = errorFromResponse(403, JSON.stringify({ type: 'permissions_denied', details: [{ resource: 'instance_server', action: 'create' }] }), req);
  assert.ok(denied instanceof PermissionDeniedError);
  assert.match(denied.message, /not allowed to create instance_server/);
  const quota = errorFromResponse(403, JSON.stringify({ type: 'quotas_exceeded', details: [{ resource: 'instances_dev1_s', quota: 2, current: 2 }] }), req);
  assert.ok(quota instanceof QuotaExceededError);
  assert.deepEqual(quota.details, [{ resource: 'instances_dev1_s', quota: 2, current: 2 }]);
  assert.match(quota.message, /instances_dev1_s \(2 of 2 used\)/);
  for (const e of [unauth, denied, quota]) assert.equal(isRetryable(e), false);
});

test('409 transient_state is retryable later; other conflicts are not', () => {
  const busy = errorFromResponse(409, JSON.stringify({ type: 'transient_state', resource: 'instance_volume', resource_id: 'v1', current_state: 'snapshotting' }), req);
  assert.ok(busy instanceof TransientStateError);
  assert.equal(busy.currentState, 'snapshotting');
  assert.equal(busy.retryable, true);
  assert.match(busy.message, /volume v1 is busy \(snapshotting\)/);
  const conflict = errorFromResponse(409, JSON.stringify({ type: 'conflict', message: 'name taken' }), req);
  assert.ok(conflict instanceof ConflictError);
  assert.equal(conflict.retryable, false);
});

test('429 (with or without body) and 5xx (even HTML) are retryable', () => {
  const limited = errorFromResponse(429, '', req, 2000);
  assert.ok(limited instanceof RateLimitedError);
  assert.equal(limited.type, 'too_many_requests');
  assert.equal(limited.retryAfterMs, 2000);
  const broken = errorFromResponse(502, '<html><body>Bad   Gateway</body></html>', req);
  assert.ok(broken instanceof ServerError);
  assert.equal(broken.status, 502);
  assert.match(broken.message, /Bad Gateway/);
  assert.ok(isRetryable(limited) && isRetryable(broken));
});

test('isRetryable is false for foreign errors and for AmbiguousError', () => {
  assert.equal(isRetryable(new Error('x')), false);
  assert.equal(isRetryable(undefined), false);
  const amb = new AmbiguousError('m', { status: 500, type: 'ambiguous', retryable: false, requestName: 'n', requestTags: ['kiln'] });
  assert.equal(isRetryable(amb), false);
  assert.deepEqual(amb.requestTags, ['kiln']);
});

test('answerOf names what Scaleway answered, through wrapping errors: a status, or why no answer came', () => {
  assert.equal(answerOf(errorFromResponse(502, '<html>bad gateway</html>', req)), '502');
  assert.equal(answerOf(errorFromResponse(429, '', req)), '429');
  const reset = new NetworkError('reset', { status: null, type: 'ECONNRESET', retryable: true, request: req });
  assert.equal(answerOf(reset), 'connection reset');
  assert.equal(answerOf(new NetworkError('slow', { status: null, type: 'timeout', retryable: true, request: req })), 'no answer in time');
  // An ambiguous create wraps the answer; a phase error may wrap the ambiguous create.
  const ambiguous = new AmbiguousError('m', { status: null, type: 'ambiguous', retryable: false, cause: reset });
  assert.equal(answerOf(new Error('phase', { cause: ambiguous })), 'connection reset');
  const ambiguous503 = new AmbiguousError('m', { status: 503, type: 'ambiguous', retryable: false, cause: errorFromResponse(503, '', req) });
  assert.equal(answerOf(ambiguous503), '503');
  assert.equal(answerOf(new Error('not an API call')), undefined);
});

test('normalizeZone maps legacy regions and refuses nonsense clearly', () => {
  assert.equal(normalizeZone('par1'), 'fr-par-1');
  assert.equal(normalizeZone('ams1'), 'nl-ams-1');
  assert.equal(normalizeZone('fr-par-2'), 'fr-par-2');
  assert.throws(() => normalizeZone('paris'), /"paris" is not a Scaleway zone.*fr-par-1/);
});

test('the client refuses a missing key or a bad URL before any request', () => {
  assert.throws(() => new ScalewayClient({ apiUrl: 'https://api.scaleway.com', zone: 'fr-par-1', secretKey: '' }), /SCW_SECRET_KEY/);
  assert.throws(() => new ScalewayClient({ apiUrl: 'not a url', zone: 'fr-par-1', secretKey: 'k' }), /api_url "not a url"/);
  assert.equal(new ScalewayClient({ apiUrl: 'https://api.scaleway.com/', zone: 'par1', secretKey: 'k' }).zone, 'fr-par-1');
});

const catalogue: MarketplaceImage[] = [
  {
    id: 'm1', name: 'Ubuntu 22.04', label: 'ubuntu_jammy', current_public_version: 'v2',
    versions: [
      { id: 'v1', name: 'old', local_images: [{ id: 'old-img', arch: 'x86_64', zone: 'fr-par-1', compatible_commercial_types: ['DEV1-S'] }] },
      {
        id: 'v2', name: 'new', local_images: [
          { id: 'par-x86', arch: 'x86_64', zone: 'fr-par-1', compatible_commercial_types: ['DEV1-S', 'GP1-XS'] },
          { id: 'par-arm', arch: 'arm64', zone: 'fr-par-1', compatible_commercial_types: ['AMP2-C1'] },
          { id: 'ams-x86', arch: 'x86_64', zone: 'nl-ams-1', compatible_commercial_types: ['DEV1-S'] },
        ],
      },
    ],
  },
  { id: 'm2', name: 'Ubuntu 24.04', label: 'ubuntu_noble', current_public_version: 'w1', versions: [{ id: 'w1', name: 'n', local_images: [] }] },
  { id: 'm3', name: 'Debian 12', label: 'debian_bookworm', current_public_version: 'd1', versions: [{ id: 'd1', name: 'd', local_images: [] }] },
];

test('marketplace: dashes become underscores; current version, zone and upper-cased type pick the image', () => {
  assert.deepEqual(pickMarketplaceImage(catalogue, 'ubuntu-jammy', 'fr-par-1', 'dev1-s'), { id: 'par-x86', arch: 'x86_64' });
  assert.deepEqual(pickMarketplaceImage(catalogue, 'ubuntu_jammy', 'fr-par-1', 'AMP2-C1'), { id: 'par-arm', arch: 'arm64' });
  assert.deepEqual(pickMarketplaceImage(catalogue, 'ubuntu_jammy', 'nl-ams-1', 'DEV1-S'), { id: 'ams-x86', arch: 'x86_64' });
});

test('marketplace: an unknown label is NotFound and lists the nearest labels', () => {
  assert.throws(
    () => pickMarketplaceImage(catalogue, 'ubuntu-jamy', 'fr-par-1', 'DEV1-S'),
    (e: unknown) => e instanceof NotFoundError && /"ubuntu_jamy".*Nearby labels: ubuntu_jammy, ubuntu_noble/.test(e.message),
  );
});

test('marketplace: no local image for zone/type says what exists', () => {
  assert.throws(
    () => pickMarketplaceImage(catalogue, 'ubuntu_jammy', 'fr-par-1', 'GP1-L'),
    (e: unknown) => e instanceof NotFoundError && /GP1-L in fr-par-1.*DEV1-S, GP1-XS, AMP2-C1/.test(e.message),
  );
  assert.throws(
    () => pickMarketplaceImage(catalogue, 'ubuntu_jammy', 'pl-waw-1', 'DEV1-S'),
    (e: unknown) => e instanceof NotFoundError && /offered in: fr-par-1, nl-ams-1/.test(e.message),
  );
});

// ---- the refusals of a real account (issue 30): decided by the answer's type, as the SDKs decide ----

const create = (what: string) => ({ method: 'POST', path: `/instance/v1/zones/fr-par-2/${what}` });

test('out_of_stock names the commercial type and the zone, and says what to do', () => {
  const e = errorFromResponse(412, JSON.stringify({ type: 'out_of_stock', resource: 'PRO2-XXS' }), create('servers'));
  assert.ok(e instanceof OutOfStockError && e instanceof AccountRefusalError);
  assert.equal(e.retryable, false);
  assert.match(e.message, /^Scaleway is out of stock of commercial type PRO2-XXS in fr-par-2 \(POST \/instance\/v1\/zones\/fr-par-2\/servers answered 412 out_of_stock\)/);
  assert.match(e.message, /set another commercial_type \(or another zone\) in the template, or try again later/);
  assert.doesNotMatch(e.message, /Unexpected answer/);
});

test("the Instance API's 403 quota answer is a quota, not a permission: it names the quota and where to raise it", () => {
  const body = { type: 'invalid_request_error', message: 'Quota exceeded for this resource.', resource: 'compute_snapshots_type_b_ssd_available' };
  const e = errorFromResponse(403, JSON.stringify(body), create('snapshots'));
  assert.ok(e instanceof QuotaExceededError, e.name);
  assert.deepEqual(e.details, [{ resource: 'compute_snapshots_type_b_ssd_available' }]);
  assert.match(e.message, /^Scaleway quota reached: compute_snapshots_type_b_ssd_available in fr-par-2 \(/);
  assert.match(e.message, /delete snapshots you no longer need \(`kiln gc` lists/);
  assert.match(e.message, /raise the quota in the Scaleway console \(Organization → Quotas\)/);
  assert.doesNotMatch(e.message, /IAM|not allowed/);
});

test('permissions_denied names the action, the resource and the permission set to add, per API', () => {
  const instance = errorFromResponse(403, JSON.stringify({ type: 'permissions_denied', details: [{ resource: 'instance_snapshot', action: 'create' }] }), create('snapshots'));
  assert.match(instance.message, /not allowed to create instance_snapshot .*Add InstancesFullAccess to one of its IAM policies/);
  const block = errorFromResponse(403, JSON.stringify({ type: 'permissions_denied', details: [{ resource: 'volume', action: 'create' }] }), { method: 'POST', path: '/block/v1alpha1/zones/fr-par-1/volumes' });
  assert.match(block.message, /Add BlockStorageFullAccess/);
});

test('denied_authentication says why the key was refused; locked and precondition_failed say what holds', () => {
  const expired = errorFromResponse(401, JSON.stringify({ type: 'denied_authentication', method: 'api_key', reason: 'expired' }), req);
  assert.ok(expired instanceof UnauthorizedError);
  assert.equal(expired.reason, 'expired');
  assert.match(expired.message, /the key has expired .*create a new key in the Scaleway console \(IAM → API keys\)/);
  const locked = errorFromResponse(423, JSON.stringify({ type: 'locked', resource: 'instance_server', resource_id: 'abc' }), req);
  assert.ok(locked instanceof LockedError);
  assert.match(locked.message, /Scaleway has locked the server abc .*Scaleway's support can lift it/);
  const inUse = errorFromResponse(412, JSON.stringify({ type: 'precondition_failed', precondition: 'resource_still_in_use', help_message: 'volume is attached' }), req);
  assert.ok(inUse instanceof PreconditionFailedError);
  assert.equal(inUse.precondition, 'resource_still_in_use');
  assert.match(inUse.message, /the resource is still in use \(volume is attached\)/);
  // The Instance API's own 412, without a named precondition.
  const stopped = errorFromResponse(412, JSON.stringify({ type: 'precondition_failed', message: 'server should be stopped' }), req);
  assert.ok(stopped instanceof PreconditionFailedError);
  assert.match(stopped.message, /server should be stopped/);
});

test("the Instance API's other forms: invalid_request_error with fields is an argument error; unknown_resource is not found", () => {
  const fields = errorFromResponse(400, JSON.stringify({ fields: { 'volumes.5.id': ['92 is not a valid UUID.'] }, message: 'Validation Error', type: 'invalid_request_error' }), req);
  assert.ok(fields instanceof InvalidArgumentsError);
  assert.deepEqual(fields.details, [{ argument_name: 'volumes.5.id', reason: 'constraint', help_message: '92 is not a valid UUID.' }]);
  const unknown = errorFromResponse(404, JSON.stringify({ type: 'unknown_resource', message: '"11111111-1111-4111-8111-111111111111" not found' }), req);
  assert.ok(unknown instanceof NotFoundError);
});

test('refusals of the account are never taken for a state refusal; state refusals are', () => {
  const body = (b: object) => JSON.stringify(b);
  const account = [
    errorFromResponse(412, body({ type: 'out_of_stock', resource: 'DEV1-S' }), req),
    errorFromResponse(403, body({ type: 'invalid_request_error', message: 'Quota exceeded for this resource.', resource: 'q' }), req),
    errorFromResponse(403, body({ type: 'permissions_denied', details: [] }), req),
    errorFromResponse(401, body({ type: 'denied_authentication', method: 'api_key', reason: 'not_found' }), req),
    errorFromResponse(423, body({ type: 'locked', resource: 'instance_server', resource_id: 'a' }), req),
  ];
  for (const e of account) {
    assert.ok(e instanceof AccountRefusalError, e.name);
    assert.equal(refusedForItsState(e), false, e.name);
    assert.equal(e.retryable, false, e.name);
  }
  const state = [
    errorFromResponse(400, body({ type: 'invalid_request_error', message: 'server should be stopped' }), req),
    errorFromResponse(412, body({ type: 'precondition_failed', message: 'server should be stopped' }), req),
    errorFromResponse(409, body({ type: 'transient_state', resource: 'instance_server', resource_id: 'a', current_state: 'starting' }), req),
  ];
  for (const e of state) assert.equal(refusedForItsState(e), true, e.name);
  assert.equal(refusedForItsState(errorFromResponse(400, body({ type: 'invalid_arguments', details: [{ argument_name: 'name', reason: 'required' }] }), req)), false);
});
