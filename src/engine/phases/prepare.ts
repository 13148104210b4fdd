// The prepare phase: the checks that need the API, made before anything exists (the template
// loader made the offline ones) — a project, the server type in the zone's catalogue, the source
// image and its architecture, the network settings, the volumes, and (unless --force) that no
// image or snapshot already has the build's names, as Packer refuses; then the build cache's lookup.
import type { BuildFacts, PhaseInput } from '../../../machines/build.machine.js';
import { isUnreachable, NotFoundError, type Arch, type NetworkError } from '../../scaleway/index.js';
import { checkCache } from '../cache.js';
import { BuildError, cachedAnswer, cacheKey, imageIsId, marketplaceKey, type PhaseRuntime } from '../runtime.js';
import { createdBy } from '../tags.js';
import { checkNetworkSettings } from './network.js';
import { checkVolumes } from './volumes.js';

export async function prepare(rt: PhaseRuntime, input: PhaseInput, signal: AbortSignal): Promise<BuildFacts> {
  try {
    return await prepareChecks(rt, input, signal);
  } catch (error) {
    // Nothing exists yet and nothing answers at the API URL: waiting cannot help, so no retries
    // for minutes — say where kiln looked at once.
    if (!isUnreachable(error)) throw error;
    const { apiUrl } = rt.deps.spec;
    throw new BuildError(
      `nothing answers at ${apiUrl} (${(error as NetworkError).type === 'ENOTFOUND' ? 'no such host' : 'connection refused'}); nothing was created. ` +
        `Check the API URL (SCW_API_URL, or api_url in the template or the Scaleway config file)${apiUrl.includes('127.0.0.1') || apiUrl.includes('localhost') ? ', or start `kiln sim` there' : ''}, then run the build again`,
      { cause: error },
    );
  }
}

async function prepareChecks(rt: PhaseRuntime, input: PhaseInput, signal: AbortSignal): Promise<BuildFacts> {
  const { client, spec, force } = rt.deps;
  // Checks that need the API, made before anything exists (the template loader made the offline ones).
  if (!spec.projectId && !spec.organizationId) {
    throw new BuildError(
      'no Scaleway project is set, and Scaleway creates every resource in a project: set project_id in the template, export SCW_DEFAULT_PROJECT_ID, or add default_project_id to your Scaleway config file',
    );
  }
  // The name checks do not depend on the others: in flight meanwhile, reported after them.
  const nameChecks = force
    ? undefined
    : Promise.all([client.listImages({ name: spec.imageName }, { signal }), client.listSnapshots({ name: spec.snapshotName }, { signal })]);
  nameChecks?.catch(() => undefined); // awaited below; a check failing first must not leave it unhandled
  const networkChecks = checkNetworkSettings(rt, signal);
  networkChecks.catch(() => undefined); // likewise
  // The zone's catalogue rarely changes: cached for a while, asked again before refusing a type.
  const catalogueKey = cacheKey(rt, 'products/servers');
  let { value: types, cached } = await cachedAnswer(rt, catalogueKey, () => client.listServerTypes({ signal }));
  if (!types[spec.commercialType.toUpperCase()] && cached) {
    await rt.deps.log.read((store) => store.uncache(catalogueKey));
    types = (await cachedAnswer(rt, catalogueKey, () => client.listServerTypes({ signal }))).value;
  }
  const type = types[spec.commercialType.toUpperCase()];
  if (!type) {
    const offered = Object.keys(types).sort();
    throw new BuildError(
      `commercial_type ${spec.commercialType} is not offered in ${client.zone}; the zone offers ${offered.join(', ')}. Set commercial_type to one of them`,
    );
  }
  let sourceImageId: string;
  let arch: Arch;
  if (imageIsId(spec)) {
    sourceImageId = spec.image;
    try {
      arch = (await client.getImage(spec.image, { signal })).arch;
    } catch (error) {
      if (!(error instanceof NotFoundError)) throw error;
      // Marketplace local images are not always visible through /images: fall back to the type's arch.
      arch = type.arch;
    }
  } else {
    // A label's image changes when a new release is published: cached for a while (and forgotten
    // if a server cannot be created from it).
    const resolved = (await cachedAnswer(rt, marketplaceKey(rt), () => client.resolveMarketplaceImage(spec.image, spec.commercialType, { signal }))).value;
    sourceImageId = resolved.id;
    arch = resolved.arch;
  }
  await networkChecks;
  const { rootVolumeType } = await checkVolumes(rt, { type, sourceImageId, signal });
  if (nameChecks) {
    // Packer refuses to build over an existing image or snapshot of the same name.
    const [imagesNamed, snapshotsNamed] = await nameChecks;
    const images = imagesNamed.filter((i) => i.name === spec.imageName && !createdBy(i.tags ?? [], rt.deps.buildId, 'image.create'));
    if (images.length > 0) {
      throw new BuildError(`an image named "${spec.imageName}" already exists (${images[0]!.id}); choose another image_name or pass --force`);
    }
    const snapshots = snapshotsNamed.filter((s) => s.name === spec.snapshotName && !createdBy(s.tags ?? [], rt.deps.buildId, 'snapshot.create'));
    if (snapshots.length > 0) {
      throw new BuildError(
        `a snapshot named "${spec.snapshotName}" already exists (${snapshots[0]!.id}); choose another snapshot_name or pass --force`,
      );
    }
  }
  // The build cache: the checkpoint to start from, and where to make checkpoints (cache.ts).
  const cache = await checkCache(rt, input, signal, { imageId: sourceImageId, arch, rootVolumeType });
  return { sourceImageId, arch, rootVolumeType, ...cache };
}
