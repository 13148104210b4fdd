// A minimal raw HTTP client for the simulator tests: they check the wire itself (status,
// headers, bodies), which a typed client would hide.
import type { Simulator } from '../helpers/sim.js';

export interface RawResponse {
  status: number;
  headers: Headers;
  text: string;
  json: any; // eslint-disable-line @typescript-eslint/no-explicit-any -- tests index freely into answers
}

export type Call = (method: string, path: string, body?: unknown, headers?: Record<string, string>) => Promise<RawResponse>;

export const PROJECT = '0a1b2c3d-4e5f-4a6b-8c7d-9e0f1a2b3c4d';

/** Calls the simulator; `path` is under /instance/v1/zones/<zone> unless it starts with `//` or `/marketplace`. */
export function client(sim: Simulator, zone = 'fr-par-1', token = 'test-token'): Call {
  return async (method, path, body, headers = {}) => {
    const url = path.startsWith('//') || path.startsWith('/marketplace') || path.startsWith('/instance') ? `${sim.apiUrl}${path}` : `${sim.apiUrl}/instance/v1/zones/${zone}${path}`;
    const response = await fetch(url, {
      method,
      headers: { 'X-Auth-Token': token, ...(body !== undefined && typeof body !== 'string' ? { 'Content-Type': 'application/json' } : {}), ...headers },
      body: body === undefined ? undefined : typeof body === 'string' ? body : JSON.stringify(body),
    });
    const text = await response.text();
    let json: unknown;
    try {
      json = text === '' ? undefined : JSON.parse(text);
    } catch {
      json = undefined;
    }
    return { status: response.status, headers: response.headers, text, json };
  };
}

/** Polls until `done` holds for the answer (the simulator changes states in the background). */
export async function until(call: () => Promise<RawResponse>, done: (response: RawResponse) => boolean, attempts = 500): Promise<RawResponse> {
  for (let i = 0; i < attempts; i++) {
    const response = await call();
    if (done(response)) return response;
    await new Promise((resolve) => setTimeout(resolve, 10));
  }
  throw new Error('the expected state never came');
}

/** The id of the public ubuntu_jammy image for x86_64 in `zone`. */
export async function ubuntuImage(call: Call, arch = 'x86_64'): Promise<string> {
  const { json } = await call('GET', `/images?public=true&arch=${arch}&name=Jammy`);
  return json.images[0].id as string;
}

export async function createServer(call: Call, extra: Record<string, unknown> = {}): Promise<any> { // eslint-disable-line @typescript-eslint/no-explicit-any
  const image = await ubuntuImage(call);
  const response = await call('POST', '/servers', { name: 'srv', commercial_type: 'DEV1-S', image, project: PROJECT, ...extra });
  if (response.status !== 201) throw new Error(`create failed: ${response.status} ${response.text}`);
  return response.json.server;
}
