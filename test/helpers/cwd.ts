// Runs code with another working directory, as a user who `cd`s into a template's folder (kiln
// reports paths relative to it). Not for tests that run such code in parallel.
export async function inDirectory<T>(dir: string, fn: () => Promise<T>): Promise<T> {
  const cwd = process.cwd();
  process.chdir(dir);
  try {
    return await fn();
  } finally {
    process.chdir(cwd);
  }
}
