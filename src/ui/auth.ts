// Who may see `kiln ui`: on a loopback address, whoever can reach it (this machine); on any other
// address only a request with KILN_UI_TOKEN — as `Authorization: Bearer <token>`, or the cookie a
// first visit with `?token=<token>` sets (a browser cannot send a header on navigation).
import { timingSafeEqual, createHash } from 'node:crypto';
import { isIP } from 'node:net';
import type { IncomingMessage } from 'node:http';

export const TOKEN_COOKIE = 'kiln_ui_token';
/** Long enough not to be guessed by trying. */
export const MIN_TOKEN_LENGTH = 16;

/** 127.0.0.0/8, ::1, localhost: only this machine can connect. */
export function isLoopback(host: string): boolean {
  const h = host.replace(/^\[|\]$/g, '').toLowerCase();
  if (h === 'localhost' || h === '::1' || h === '0:0:0:0:0:0:0:1') return true;
  if (isIP(h) === 4) return h.startsWith('127.');
  const mapped = /^::ffff:(\d+\.\d+\.\d+\.\d+)$/.exec(h);
  return mapped !== null && mapped[1]!.startsWith('127.');
}

/** Why `kiln ui` may not serve `host` with `token`, or undefined when it may. */
export function bindProblem(host: string, token: string | undefined): string | undefined {
  if (token !== undefined && token.length < MIN_TOKEN_LENGTH) {
    return `KILN_UI_TOKEN is ${token.length} characters long: give at least ${MIN_TOKEN_LENGTH} (e.g. \`openssl rand -hex 16\`), or unset it on a loopback address.`;
  }
  if (isLoopback(host) || token) return undefined;
  return (
    `--host ${host} is not a loopback address: anyone who can reach it could read every build in the store. ` +
    `Set KILN_UI_TOKEN to a secret of ${MIN_TOKEN_LENGTH}+ characters (every request must then carry it), or serve on 127.0.0.1 (the default).`
  );
}

const digest = (text: string) => createHash('sha256').update(text).digest();

/** Compares in constant time (hashes first, so that lengths leak nothing either). */
export function sameToken(given: string, token: string): boolean {
  return timingSafeEqual(digest(given), digest(token));
}

function cookie(req: IncomingMessage, name: string): string | undefined {
  for (const part of (req.headers.cookie ?? '').split(';')) {
    const [key, ...value] = part.trim().split('=');
    if (key === name) return decodeURIComponent(value.join('='));
  }
  return undefined;
}

export type Access = { ok: true; setCookie?: string } | { ok: false };

/** Whether `req` carries the token (none required: always). A valid `?token=` also sets the cookie. */
export function checkAccess(req: IncomingMessage, url: URL, token: string | undefined): Access {
  if (token === undefined) return { ok: true };
  const bearer = /^Bearer (.+)$/.exec(req.headers.authorization ?? '')?.[1];
  if (bearer !== undefined && sameToken(bearer, token)) return { ok: true };
  const fromCookie = cookie(req, TOKEN_COOKIE);
  if (fromCookie !== undefined && sameToken(fromCookie, token)) return { ok: true };
  const fromQuery = url.searchParams.get('token');
  if (fromQuery !== null && sameToken(fromQuery, token)) {
    return { ok: true, setCookie: `${TOKEN_COOKIE}=${encodeURIComponent(token)}; HttpOnly; SameSite=Strict; Path=/` };
  }
  return { ok: false };
}
