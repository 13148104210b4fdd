// `kiln ls`: the builds of the event store, newest first.
import { leaseIsLive, type BuildStatus, type BuildSummary } from '../../store/index.js';
import { displayStatus, durationMs, endedWithSimulator, formatElapsed } from '../../view/index.js';
import { openStoreFor } from './open-store.js';
import { formatTable } from '../render/table.js';

export interface LsArgs {
  status?: BuildStatus;
  json: boolean;
  db?: string;
}

/** `simulatorGone`: a `kiln build --sim` build whose process is gone — it ended with its simulator (`failed`). */
export function lsJson(b: BuildSummary, now: number, simulatorGone = false): Record<string, unknown> {
  return {
    id: b.id,
    template: b.templatePath,
    builder: b.builderName,
    status: simulatorGone ? 'failed' : b.status,
    ...(simulatorGone ? { simulatorGone: true } : b.status === 'running' ? { alive: leaseIsLive(b.lease, now) } : {}),
    phase: b.phase,
    host: b.host,
    startedAt: b.createdAt,
    updatedAt: b.updatedAt,
    durationMs: durationMs(b),
    imageId: b.artifact?.imageId ?? null,
  };
}

export async function runLsCommand(argv: LsArgs): Promise<number> {
  const opened = await openStoreFor('ls', argv.db);
  if ('exitCode' in opened) return opened.exitCode;
  const { store } = opened;
  try {
    const builds = await store.listBuildSummaries({ status: argv.status });
    const now = await store.clock();
    const simulatorGone = await endedWithSimulator(store, builds, now);
    if (argv.json) {
      process.stdout.write(JSON.stringify(builds.map((b) => lsJson(b, now, simulatorGone.has(b.id)))) + '\n');
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
      displayStatus(b, now, simulatorGone.has(b.id)),
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
