// Local paths in a template resolve against the template's own directory (so a template runs
// the same from any working directory); `~/` is the user's home. A trailing "/" is kept: the
// file provisioner gives it meaning (upload a directory's contents, not the directory).
import { isAbsolute, join, resolve } from 'node:path';

export function resolveLocalPath(templateDir: string, path: string, home: string): string {
  const expanded = path === '~' ? home : path.startsWith('~/') ? join(home, path.slice(2)) : path;
  const absolute = isAbsolute(expanded) ? resolve(expanded) : resolve(templateDir, expanded);
  return path.endsWith('/') && !absolute.endsWith('/') ? `${absolute}/` : absolute;
}
