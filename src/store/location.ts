// Telling a PostgreSQL URL from a SQLite path, without loading either database's client (the
// command-line parser asks before any command runs).

/** Whether `value` (`--db`, `KILN_DB`) names a PostgreSQL database rather than a SQLite file. */
export function isPostgresUrl(value: string): boolean {
  return /^postgres(ql)?:\/\//i.test(value);
}
