// Who may see `kiln ui`: loopback addresses need no token; every other address does (0.0.0.0 and
// :: listen on every interface), a long one; and a request carries it as a header, a cookie or once in the address.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import type { IncomingMessage } from 'node:http';
import { bindProblem, checkAccess, isLoopback, TOKEN_COOKIE } from '../../src/ui/index.js';

const TOKEN = 'sixteen-chars-or-more-token';

test('loopback is 127.0.0.0/8, ::1 and localhost; any other address is not', () => {
  for (const host of ['127.0.0.1', '127.1.2.3', '::1', '[::1]', 'localhost', '::ffff:127.0.0.1']) assert.equal(isLoopback(host), true, host);
  for (const host of ['0.0.0.0', '::', '192.168.1.10', '10.0.0.1', 'example.com', '::ffff:10.0.0.1', '128.0.0.1']) assert.equal(isLoopback(host), false, host);
});

test('off loopback a token is required, and a short one is refused everywhere', () => {
  assert.equal(bindProblem('127.0.0.1', undefined), undefined);
  assert.match(bindProblem('0.0.0.0', undefined)!, /not a loopback address.*KILN_UI_TOKEN/);
  assert.equal(bindProblem('0.0.0.0', TOKEN), undefined);
  assert.match(bindProblem('127.0.0.1', 'short')!, /5 characters long: give at least 16/);
});

test('a request passes with the token as a bearer, as the cookie, or once as ?token= (which sets the cookie)', () => {
  const req = (headers: Record<string, string>) => ({ headers }) as unknown as IncomingMessage;
  const url = (query = '') => new URL(`http://h/${query}`);
  assert.deepEqual(checkAccess(req({}), url(), undefined), { ok: true }, 'no token configured');
  assert.deepEqual(checkAccess(req({}), url(), TOKEN), { ok: false });
  assert.deepEqual(checkAccess(req({ authorization: `Bearer ${TOKEN}` }), url(), TOKEN), { ok: true });
  assert.deepEqual(checkAccess(req({ authorization: `Bearer ${TOKEN}x` }), url(), TOKEN), { ok: false });
  assert.deepEqual(checkAccess(req({ cookie: `a=b; ${TOKEN_COOKIE}=${TOKEN}` }), url(), TOKEN), { ok: true });
  assert.deepEqual(checkAccess(req({ cookie: `${TOKEN_COOKIE}=nope` }), url(), TOKEN), { ok: false });
  const viaQuery = checkAccess(req({}), url(`?token=${TOKEN}`), TOKEN);
  assert.equal(viaQuery.ok, true);
  assert.match((viaQuery as { setCookie: string }).setCookie, new RegExp(`^${TOKEN_COOKIE}=${TOKEN}; HttpOnly; SameSite=Strict; Path=/$`));
});
