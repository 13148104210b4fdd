// One simulator per state directory: two writing one world.json would each overwrite the other's
// world (and share its disks). The first takes `<dir>/sim.lock` (created exclusively, holding its
// pid); another is refused, naming the directory and the holder. A lock whose process is gone
// (a simulator killed with -9) is taken over.
import { readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';

export class StateDirInUseError extends Error {
  constructor(
    readonly dir: string,
    readonly pid: number,
  ) {
    super(
      `state directory ${dir} is in use by another simulator (process ${pid}): two simulators on one directory would overwrite each other's world. ` +
        `Stop that one, or give this one another --state-dir. (If no process ${pid} runs a simulator, remove ${join(dir, 'sim.lock')}.)`,
    );
    this.name = 'StateDirInUseError';
  }
}

function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (error) {
    return (error as NodeJS.ErrnoException).code === 'EPERM';
  }
}

/** Takes the directory's lock for this process; returns its release. Throws StateDirInUseError. */
export function lockStateDir(dir: string): () => void {
  const path = join(dir, 'sim.lock');
  for (let tries = 0; ; tries++) {
    try {
      writeFileSync(path, `${process.pid}\n`, { flag: 'wx' });
      return () => rmSync(path, { force: true });
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code !== 'EEXIST' || tries > 2) throw error;
    }
    let holder = NaN;
    try {
      holder = Number.parseInt(readFileSync(path, 'utf8'), 10);
    } catch {
      continue; // released meanwhile
    }
    if (Number.isInteger(holder) && holder > 0 && alive(holder)) throw new StateDirInUseError(dir, holder);
    rmSync(path, { force: true }); // its process is gone
  }
}
