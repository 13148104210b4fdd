// What the cloud (the simulator, through the client) holds for one build, found by its
// `kiln-build=<id>` tag.
import type { ScalewayClient } from '../../src/scaleway/index.js';

export async function cloudOfBuild(client: ScalewayClient, buildId: string) {
  const tags = [`kiln-build=${buildId}`];
  const [servers, volumes, snapshots, images] = await Promise.all([
    client.listServers({ tags }),
    client.listVolumes({ tags }),
    client.listSnapshots({ tags }),
    client.listImages({ tags }),
  ]);
  return { servers, volumes, snapshots, images };
}
