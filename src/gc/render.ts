// Terminal output of `kiln gc`: the plan (or, after --force, the results) as an aligned table,
// and the one summary line. Pure: strings in, a string out.
import { formatAge } from './classify.js';
import { summarizePlan } from './plan.js';
import type { ItemResult, PlanItem, ResourceType } from './types.js';

const PLURALS: Record<ResourceType, string> = {
  server: 'servers',
  volume: 'volumes',
  snapshot: 'snapshots',
  image: 'images',
  ip: 'IPs',
};

function count(n: number, type: ResourceType): string {
  return `${n} ${n === 1 ? (type === 'ip' ? 'IP' : type) : PLURALS[type]}`;
}

function byType(counts: Record<ResourceType, number>): string {
  const parts = (Object.keys(counts) as ResourceType[]).filter((t) => counts[t] > 0).map((t) => count(counts[t], t));
  return parts.join(', ');
}

const ACTION_LABEL: Record<PlanItem['action'], string> = {
  delete: 'delete',
  'with-server': 'with server',
  keep: 'keep',
};

/** Lays rows out in columns separated by two spaces; the last column is not padded. */
export function formatColumns(rows: readonly (readonly string[])[]): string {
  if (rows.length === 0) return '';
  const widths = rows[0]!.map((_, col) => Math.max(...rows.map((row) => (row[col] ?? '').length)));
  return rows
    .map((row) => row.map((cell, col) => (col === row.length - 1 ? cell : cell.padEnd(widths[col]!))).join('  ').trimEnd())
    .join('\n');
}

export interface TableOptions {
  now: number;
  /** Show a ZONE column (several zones scanned). */
  showZone: boolean;
  /** Per-item results, parallel to `items` (after --force). */
  results?: readonly (ItemResult | undefined)[];
}

/** The table of resources: type, id, name, build, age, state, what gc does (or did), and why. */
export function renderTable(items: readonly PlanItem[], options: TableOptions): string {
  const header = ['TYPE', 'ID', 'NAME', 'BUILD', 'AGE', 'STATE', options.results ? 'RESULT' : 'ACTION', 'REASON'];
  if (options.showZone) header.splice(1, 0, 'ZONE');
  const rows: string[][] = [header];
  items.forEach((item, index) => {
    const result = options.results?.[index];
    const outcome = result ? result.status : options.results && item.action === 'keep' ? 'kept' : ACTION_LABEL[item.action];
    const reason = result?.reason ? `${item.reason}; ${result.reason}` : item.reason;
    const row = [
      item.api ? `${item.type} (sbs)` : item.type,
      item.id,
      item.name || '-',
      item.buildId ?? '-',
      item.createdAt === undefined ? '?' : formatAge(Math.max(0, options.now - item.createdAt)),
      item.state,
      outcome,
      reason,
    ];
    if (options.showZone) row.splice(1, 0, item.zone);
    rows.push(row);
  });
  return formatColumns(rows);
}

export interface SummaryInput {
  items: readonly PlanItem[];
  zones: readonly string[];
  results?: readonly (ItemResult | undefined)[];
  cleanedBuilds?: readonly string[];
}

/** The one summary line under the table. */
export function renderSummary(input: SummaryInput): string {
  const summary = summarizePlan(input.items);
  const where = input.zones.length === 1 ? input.zones[0] : `${input.zones.length} zones`;
  const found = `${summary.found} kiln resource${summary.found === 1 ? '' : 's'} in ${where}`;
  const kept = `${summary.kept} kept`;
  if (summary.orphanTotal === 0) return `Found ${found}: nothing to remove, ${kept}.`;
  if (!input.results) {
    return `Found ${found}: ${summary.orphanTotal} would be removed (${byType(summary.orphans)}), ${kept}. ` +
      'Nothing was changed; run again with --force to remove them.';
  }
  const removed: Record<ResourceType, number> = { server: 0, volume: 0, snapshot: 0, image: 0, ip: 0 };
  let failed = 0;
  let skipped = 0;
  input.items.forEach((item, index) => {
    const status = input.results?.[index]?.status;
    if (status === 'removed') removed[item.type]++;
    else if (status === 'failed') failed++;
    else if (status === 'skipped') skipped++;
  });
  const removedTotal = Object.values(removed).reduce((a, b) => a + b, 0);
  const cleaned = input.cleanedBuilds?.length ? ` Builds marked cleaned: ${input.cleanedBuilds.join(', ')}.` : '';
  return `Found ${found}: removed ${removedTotal} of ${summary.orphanTotal}` +
    (removedTotal > 0 ? ` (${byType(removed)})` : '') +
    `, ${failed} failed, ${skipped} skipped, ${kept}.${cleaned}` +
    (failed > 0 ? ' Run `kiln gc --force` again to retry the failed ones.' : '');
}
