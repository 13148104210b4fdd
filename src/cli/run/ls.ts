// `kiln ls`: the builds of the event store, newest first.
import { leaseIsLive, type BuildStatus, type BuildSummary } from '../../store/index.js';
import { displayStatus, durationMs, formatElapsed } from '../../view/index.js';
import { openStoreFor } from './open-store.js';
import { formatTable } from '../render/table.js';

export interface LsArgs {
  status?: BuildStatus;
  json: boolean;
  db?: string;
}

export function lsJson(b: BuildSummary, now: number): Record<string, unknown> {
  return {
    id: b.id,
    template: b.templatePath,
    builder: b.builderName,
    status: b.status,
    ...(b.status === 'running' ? { alive: leaseIsLive(b.lease, now) } : {}),
    phase: b.phase,
    host: b.host,
    started_at: b.createdAt,
    updated_at: b.updatedAt,
    duration_ms: durationMs(b),
    image_id: b.artifact?.imageId ?? null,
  };
}

export async function runLsCommand(argv: LsArgs): Promise<number> {
  const store = await openStoreFor('ls', argv.db);
  if (!store) return 1;
  try {
    const builds = await store.listBuildSummaries({ status: argv.status });
    const now = await store.clock();
    if (argv.json) {
      process.stdout.write(JSON.stringify(builds.map((b) => lsJson(b, now))) + '\n');
      return 0;
    }
    if (builds.length === 0) {
      process.stdout.write(argv.status ? `No ${argv.status} builds.\n` : 'No builds yet. Start one with `kiln build <template>` (or try `kiln build --sim examples/basic.json`).\n');
      return 0;
    }
    const rows = builds.map((b) => [
      b.id,
      b.templatePath,
      b.builderName,
      displayStatus(b, now),
      b.phase ?? '-',
      b.host ?? '-',
      b.createdAt.replace('T', ' ').replace(/\.\d+Z$/, 'Z'),
      formatElapsed(durationMs(b)),
      b.artifact?.imageId ?? '-',
    ]);
    process.stdout.write(formatTable(['ID', 'TEMPLATE', 'BUILDER', 'STATUS', 'PHASE', 'HOST', 'STARTED', 'DURATION', 'IMAGE'], rows));
    return 0;
  } finally {
    await store.close();
  }
}
