// Packer's error-cleanup-provisioner: one provisioner that runs on the server when the build fails
// once provisioning has begun, before the cleanup. A JSON template writes it as a top-level object
// ("error-cleanup-provisioner": {"type": "shell", …}); an HCL2 build block as a block, lowered to
// one object per source (restricted to it with "only"), so the template shape holds a list then.
import { isObject, describeType } from './fields.js';
import { appliesTo, checkProvisionerList, readProvisioner, type ProvisionerBuild, type ProvisionerContext } from './provisioners/index.js';
import { ERROR_CLEANUP_INDEX, type ProvisionerSpec } from './spec.js';

export const ERROR_CLEANUP_KEY = 'error-cleanup-provisioner';

export interface RawErrorCleanup {
  raw: unknown;
  path: string;
}

/** The template's error-cleanup provisioner(s), checked as provisioners are (type, only/except). */
export function checkErrorCleanup(raw: unknown, ctx: ProvisionerContext): RawErrorCleanup[] {
  if (raw === undefined || raw === null) return [];
  const single = !Array.isArray(raw);
  const list = single ? [raw] : raw;
  const pathOf = (i: number) => (single ? ERROR_CLEANUP_KEY : `${ERROR_CLEANUP_KEY}[${i}]`);
  if (single && !isObject(raw)) {
    ctx.problems.add(ERROR_CLEANUP_KEY, `must be one provisioner object with a "type", not ${describeType(raw)}`, 'write "error-cleanup-provisioner": {"type": "shell", "inline": ["…"]}');
    return [];
  }
  checkProvisionerList(list, ctx, pathOf);
  list.forEach((item, i) => {
    if (isObject(item) && item.continue_on_error !== undefined) {
      ctx.problems.add(`${pathOf(i)}.continue_on_error`, 'has no meaning on the error-cleanup-provisioner', 'the build has failed already when it runs; its own failure is reported with the build\'s');
    }
  });
  return list.map((item, i) => ({ raw: item, path: pathOf(i) }));
}

/** The error-cleanup provisioner of one build: the first that applies to it. */
export function readErrorCleanup(list: RawErrorCleanup[], build: ProvisionerBuild, ctx: ProvisionerContext): ProvisionerSpec | undefined {
  const entry = list.find((e) => appliesTo(e.raw, build.name));
  return entry ? readProvisioner(entry.raw, ERROR_CLEANUP_INDEX, build, ctx, entry.path) : undefined;
}
