// What the cloud (the simulator, through the client) holds for one build, found by its
// `kiln-build=<id>` tag: Instance and Block (SBS) API resources alike.
import type { ScalewayClient } from '../../src/scaleway/index.js';

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
