// `kiln version` and `kiln --version`: kiln's version, Node's, and the store schema this kiln
// brings a store to (its last migration), so that a bug report says what ran.
import { kilnVersion } from '../../scaleway/version.js';
import { migrationFiles } from '../../store/index.js';
import type { TextOutput } from '../../shared/text-output.js';
import type { PackerUi } from '../render/machine.js';

export interface VersionInfo {
  kiln: string;
  node: string;
  /** The last migration's number (17 for 0017_fast_reads.sql) and file name. */
  schema: { version: number; migration: string };
}

export function versionInfo(): VersionInfo {
  const last = migrationFiles().at(-1) ?? '0000_none.sql';
  return { kiln: kilnVersion(), node: process.version, schema: { version: Number(last.slice(0, 4)), migration: last.replace(/\.sql$/, '') } };
}

export function versionText(info: VersionInfo = versionInfo()): string {
  return `kiln v${info.kiln}\nNode ${info.node}\nstore schema ${info.schema.version} (${info.schema.migration})\n`;
}

/** With -machine-readable, Packer's `version` lines first (version, version-prelease, version-commit), then kiln's own. */
export function runVersion(args: { json?: boolean }, out: TextOutput & { ui?: PackerUi }): number {
  const info = versionInfo();
  if (args.json) {
    out.stdout(`${JSON.stringify(info)}\n`);
    return 0;
  }
  if (out.ui) {
    out.ui.machine('', 'version', info.kiln);
    out.ui.machine('', 'version-prelease', '');
    out.ui.machine('', 'version-commit', '');
    out.ui.machine('', 'node-version', info.node);
    out.ui.machine('', 'store-schema', String(info.schema.version), info.schema.migration);
  }
  out.stdout(versionText(info));
  return 0;
}
