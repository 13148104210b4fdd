// POSIX shell quoting and environment prefixes, shared by exec and the provisioners so that
// both quote the same way.

/** Quotes a value for a POSIX shell: `it's` → `'it'"'"'s'` (the form Packer uses). */
export function shellQuote(value: string): string {
  return `'${value.replace(/'/g, `'"'"'`)}'`;
}

const envName = /^[A-Za-z_][A-Za-z0-9_]*$/;

/** Throws a clear error when `name` cannot be a shell variable name. */
export function assertEnvName(name: string, where: string): void {
  if (!envName.test(name)) {
    throw new Error(
      `${where}: "${name}" is not a valid environment variable name (letters, digits and _ only, not starting with a digit)`,
    );
  }
}

/** `A='1' B='x y'` — assignments in the given order, each value shell-quoted. */
export function shellAssignments(env: Record<string, string>, where = 'environment'): string {
  return Object.entries(env)
    .map(([name, value]) => {
      assertEnvName(name, where);
      return `${name}=${shellQuote(value)}`;
    })
    .join(' ');
}
