// Every project has a default security group in each zone, as on Scaleway: "Default security
// group", `project_default: true`, accepting everything. It exists from the project's first use of
// the zone — its first server, or a list of its groups — with an id derived from the project and
// the zone, so it is the same whenever (and after a restart) it comes into being. A server
// created without `security_group` is put in it.
import type { Zone } from './catalog.js';
import { defaultSecurityGroupId, nextSeq, now, type SecurityGroupRecord, type WorldData } from './world.js';

export const DEFAULT_SECURITY_GROUP_NAME = 'Default security group';

/** The project's default security group in the zone, made now if the project had none there. */
export function ensureDefaultSecurityGroup(world: WorldData, owner: { project: string; organization: string; zone: Zone }): SecurityGroupRecord {
  const groups = (world.security_groups ??= {});
  const id = defaultSecurityGroupId(owner.project, owner.zone);
  const existing = groups[id];
  if (existing) return existing;
  const created = now();
  const group: SecurityGroupRecord = {
    id,
    name: DEFAULT_SECURITY_GROUP_NAME,
    description: 'Auto generated security group.',
    project: owner.project,
    organization: owner.organization,
    zone: owner.zone,
    tags: [],
    creation_date: created,
    modification_date: created,
    seq: nextSeq(world),
    project_default: true,
  };
  groups[id] = group;
  return group;
}
