// Packer 1.6.6 (Debian's package), the oracle the interop tests and the bench compare kiln with:
// found once, on PATH, and run with a private home, no telemetry and no colours.
import { spawnSync } from 'node:child_process';
import { accessSync, constants } from 'node:fs';
import { delimiter, join } from 'node:path';

function onPath(name: string): string | undefined {
  for (const dir of (process.env.PATH ?? '/usr/bin:/bin').split(delimiter)) {
    const candidate = join(dir || '.', name);
    try {
      accessSync(candidate, constants.X_OK);
      return candidate;
    } catch {
      // not here
    }
  }
  return undefined;
}

/** The environment Packer runs in: `home` as its home, cache, config and temporary directory. */
export function packerEnv(home: string): NodeJS.ProcessEnv {
  return {
    PATH: process.env.PATH ?? '/usr/bin:/bin',
    HOME: home,
    PACKER_CACHE_DIR: join(home, 'packer_cache'),
    PACKER_CONFIG_DIR: home,
    CHECKPOINT_DISABLE: '1',
    PACKER_NO_COLOR: '1',
    TMPDIR: home,
  };
}

function findPacker(): { path: string } | { missing: string } {
  const path = onPath('packer');
  if (!path) return { missing: 'Packer is not installed (Debian: apt-get install packer; .ci/run installs it)' };
  const version = spawnSync(path, ['version'], { encoding: 'utf8', env: { PATH: process.env.PATH, CHECKPOINT_DISABLE: '1' }, timeout: 60_000 });
  const found = /Packer v(\S+)/.exec(version.stdout ?? '')?.[1];
  if (!found?.startsWith('1.6.')) return { missing: `${path} is Packer ${found ?? '(unknown version)'}; the comparisons need Packer 1.6.x` };
  return { path };
}

const packer = findPacker();

/** The Packer 1.6.x executable ('packer' when there is none, so that running it fails with ENOENT). */
export const PACKER = 'path' in packer ? packer.path : 'packer';

/** false, or why what compares kiln with Packer cannot run here. */
export const packerMissing: false | string = 'missing' in packer ? packer.missing : false;
