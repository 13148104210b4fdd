// ssh2, required on first use. Loading it takes ~35 ms (its protocol code and two native
// bindings), which `kiln validate`, a build with `communicator: none` and every command that
// never touches SSH should not pay. ssh2 is CommonJS, so `require` loads it synchronously and the
// callers stay synchronous.
import { createRequire } from 'node:module';

type Ssh2 = typeof import('ssh2');

let ssh2: Ssh2 | undefined;

export function loadSsh2(): Ssh2 {
  return (ssh2 ??= createRequire(import.meta.url)('ssh2') as Ssh2);
}
