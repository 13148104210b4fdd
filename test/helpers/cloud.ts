// What the cloud (the simulator, through the client) holds for one build, found by its
// `kiln-build=<id>` tag: Instance and Block (SBS) API resources alike.
import assert from 'node:assert/strict';
import type { ScalewayClient } from '../../src/scaleway/index.js';
import { sleep } from '../../src/shared/sleep.js';

export async function cloudOfBuild(client: ScalewayClient, buildId: string) {
  const tags = [`kiln-build=${buildId}`];
  const [servers, volumes, blockVolumes, snapshots, blockSnapshots, images] = await Promise.all([
    client.listServers({ tags }),
    client.listVolumes({ tags }),
    client.block.listVolumes({ tags }),
    client.listSnapshots({ tags }),
    client.block.listSnapshots({ tags }),
    client.listImages({ tags }),
  ]);
  return { servers, volumes: [...volumes, ...blockVolumes], snapshots: [...snapshots, ...blockSnapshots], images };
}

/** Terminates the build's server behind kiln's back, as a user would by hand, and waits until it is gone; returns its id. */
export async function terminateServerByHand(client: ScalewayClient, buildId: string): Promise<string> {
  const tags = [`kiln-build=${buildId}`];
  const [server] = await client.listServers({ tags });
  assert.ok(server, `build ${buildId} has a server`);
  await client.serverAction(server.id, 'terminate');
  // Terminating takes the simulator's stop latency: poll until the server is gone (the test's time limit bounds it).
  while ((await client.listServers({ tags })).length > 0) await sleep(20);
  return server.id;
}
