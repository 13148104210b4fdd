// kiln's version, read once from the package.json next to the sources (or to dist/ when compiled),
// for the User-Agent header.
import { readFileSync } from 'node:fs';

let cached: string | undefined;

export function kilnVersion(): string {
  if (cached !== undefined) return cached;
  cached = '0.0.0';
  // src/scaleway/ → ../../package.json; dist/src/scaleway/ → ../../../package.json.
  for (const relative of ['../../package.json', '../../../package.json']) {
    try {
      const pkg = JSON.parse(readFileSync(new URL(relative, import.meta.url), 'utf8')) as { name?: string; version?: string };
      if (pkg.name === 'kiln' && typeof pkg.version === 'string') {
        cached = pkg.version;
        break;
      }
    } catch {
      // Not there from this layout; try the next.
    }
  }
  return cached;
}
