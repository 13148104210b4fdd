-- `kiln gc` runs (issue 7): what each run found and what it removed, so that a cleanup can be
-- audited later. A run is inserted when it starts and completed when it ends: a row whose
-- finished_at is NULL is a run that was killed. Builds whose leftovers are all gone get the
-- status `cleaned` in `builds` (a free-text column: no schema change needed).

CREATE TABLE gc_runs (
  id             INTEGER PRIMARY KEY AUTOINCREMENT,
  started_at     TEXT    NOT NULL,                       -- ISO 8601
  finished_at    TEXT,
  dry_run        INTEGER NOT NULL CHECK (dry_run IN (0, 1)),
  host           TEXT    NOT NULL,
  pid            INTEGER NOT NULL,
  zones          TEXT    NOT NULL CHECK (json_valid(zones)),
  older_than_ms  INTEGER NOT NULL,
  build_filter   TEXT,
  -- [{type, id, name, zone, build, action, reason}] for every kiln resource found
  found          TEXT    NOT NULL DEFAULT '[]' CHECK (json_valid(found)),
  -- [{type, id, zone, build}] deleted by this run
  removed        TEXT    NOT NULL DEFAULT '[]' CHECK (json_valid(removed)),
  -- [{type, id, zone, build, status, reason}] planned deletions that failed or were skipped
  not_removed    TEXT    NOT NULL DEFAULT '[]' CHECK (json_valid(not_removed)),
  cleaned_builds TEXT    NOT NULL DEFAULT '[]' CHECK (json_valid(cleaned_builds)),
  exit_code      INTEGER
);

CREATE INDEX gc_runs_by_started ON gc_runs (started_at DESC);
