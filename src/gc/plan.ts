// The cleanup plan: every kiln-tagged resource found, with what gc will do to it and why.
// Resources arrive one page at a time (`add`), so a zone with 10,000 servers costs one compact
// row per resource, never the API's full objects. Within a zone, servers must be added before
// volumes and IPs: whether an attached volume or IP goes depends on its server's verdict.
import { classifyResource, type ClassifyContext } from './classify.js';
import { buildIdOf, KILN_TAG, type GcBuild, type GcResource, type PlanItem, type ResourceType } from './types.js';

export interface PlanOptions extends ClassifyContext {
  /** Only resources of this build (`--build`). */
  buildFilter?: string;
  /** The local store's view of a build, or undefined when it never saw it. */
  lookupBuild: (id: string) => GcBuild | undefined;
}

export interface Plan {
  items: PlanItem[];
  /** Resources without the `kiln` tag that discovery saw and left alone. */
  untaggedIgnored: number;
  /** Kiln resources of other builds, left out because of `--build`. */
  otherBuildsIgnored: number;
}

interface ServerVerdict {
  orphan: boolean;
  rootVolumeId: string | undefined;
}

export class PlanBuilder {
  private readonly items: PlanItem[] = [];
  private untaggedIgnored = 0;
  private otherBuildsIgnored = 0;
  /** Kiln servers seen so far, by `zone/id`: attached volumes and IPs follow their verdict. */
  private readonly servers = new Map<string, ServerVerdict>();

  constructor(private readonly options: PlanOptions) {}

  add(resource: GcResource): void {
    const tagged = resource.tags.includes(KILN_TAG);
    const buildId = buildIdOf(resource.tags);
    const server = resource.serverId === undefined ? undefined : this.servers.get(`${resource.zone}/${resource.serverId}`);

    if ((resource.type === 'volume' || resource.type === 'ip') && resource.serverId !== undefined) {
      if (server?.orphan && resource.type === 'volume' && (tagged || server.rootVolumeId === resource.id)) {
        // The root volume may be untagged (a kill between creating the server and tagging its
        // volume), but it was created by kiln with the server, so it goes with it.
        this.push(resource, buildId, 'with-server', `goes with orphan server ${resource.serverId}`);
        return;
      }
      if (server?.orphan && resource.type === 'ip' && tagged) {
        this.push(resource, buildId, 'delete', `attached to orphan server ${resource.serverId}: deleted after it`);
        return;
      }
      if (tagged && this.wanted(buildId)) {
        this.push(resource, buildId, 'keep', `attached to server ${resource.serverId}, which stays`);
        return;
      }
    }
    if (!tagged) {
      this.untaggedIgnored++;
      return;
    }
    if (!this.wanted(buildId)) {
      this.otherBuildsIgnored++;
      return;
    }
    const build = buildId === undefined ? undefined : this.options.lookupBuild(buildId);
    const verdict = classifyResource(resource, build, this.options);
    this.push(resource, buildId, verdict.orphan ? 'delete' : 'keep', verdict.reason);
    if (resource.type === 'server') this.noteServer(resource, verdict.orphan);
  }

  finish(): Plan {
    return { items: this.items, untaggedIgnored: this.untaggedIgnored, otherBuildsIgnored: this.otherBuildsIgnored };
  }

  private wanted(buildId: string | undefined): boolean {
    return this.options.buildFilter === undefined || buildId === this.options.buildFilter;
  }

  private noteServer(resource: GcResource, orphan: boolean): void {
    this.servers.set(`${resource.zone}/${resource.id}`, { orphan, rootVolumeId: resource.rootVolumeId });
  }

  private push(resource: GcResource, buildId: string | undefined, action: PlanItem['action'], reason: string): void {
    const item: PlanItem = {
      type: resource.type,
      id: resource.id,
      name: resource.name,
      zone: resource.zone,
      buildId,
      createdAt: resource.createdAt,
      state: resource.state,
      action,
      reason,
    };
    if (resource.serverId !== undefined) item.serverId = resource.serverId;
    if (resource.api) item.api = resource.api;
    this.items.push(item);
  }
}

export interface PlanSummary {
  found: number;
  /** Resources gc would remove (or removed), by type; volumes going with their server included. */
  orphans: Record<ResourceType, number>;
  orphanTotal: number;
  kept: number;
}

export function summarizePlan(items: readonly PlanItem[]): PlanSummary {
  const orphans: Record<ResourceType, number> = { server: 0, volume: 0, snapshot: 0, image: 0, ip: 0 };
  let kept = 0;
  for (const item of items) {
    if (item.action === 'keep') kept++;
    else orphans[item.type]++;
  }
  return { found: items.length, orphans, orphanTotal: items.length - kept, kept };
}
