// A process that takes a build's lease, for the lease tests across pid namespaces
// (lease-namespaces.test.ts), as `kiln build` or `kiln resume` would: thisProcess() as the owner.
//   hold <location> <build> <ttlMs>  takes it, prints one JSON line, and exits (without releasing:
//                                    as a killed process) once its stdin closes
//   try  <location> <build> <ttlMs>  tries to take it, prints one JSON line, releases it, exits
// The line: { pid, pidSpace, clock (the store's, just before), lease } or { …, refused, holder }.
import { LeaseHeldError, openStore, resolveStoreLocation, thisProcess } from '../../src/store/index.js';

const [mode, location, buildId, ttl] = process.argv.slice(2) as [string, string, string, string];
const store = await openStore(resolveStoreLocation(location));
const owner = thisProcess();
const clock = await store.clock();
const said = { pid: process.pid, pidSpace: owner.pidSpace, clock };
try {
  const lease = await store.acquireLease(buildId, owner, Number(ttl));
  process.stdout.write(`${JSON.stringify({ ...said, lease })}\n`);
  if (mode === 'try') await store.releaseLease(buildId, owner);
} catch (error) {
  if (!(error instanceof LeaseHeldError)) throw error;
  process.stdout.write(`${JSON.stringify({ ...said, refused: error.message, holder: error.holder })}\n`);
}
if (mode === 'hold') {
  process.stdin.on('end', () => process.exit(0)).resume();
} else {
  await store.close();
}
