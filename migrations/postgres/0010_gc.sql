-- `kiln gc` runs: see ../0010_gc.sql (the same table in SQLite).

CREATE TABLE gc_runs (
  id             BIGINT  GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
  started_at     TEXT    NOT NULL,                       -- ISO 8601
  finished_at    TEXT,
  dry_run        INTEGER NOT NULL CHECK (dry_run IN (0, 1)),
  host           TEXT    NOT NULL,
  pid            INTEGER NOT NULL,
  zones          JSON    NOT NULL,
  older_than_ms  BIGINT  NOT NULL,
  build_filter   TEXT,
  found          JSON    NOT NULL DEFAULT '[]',
  removed        JSON    NOT NULL DEFAULT '[]',
  not_removed    JSON    NOT NULL DEFAULT '[]',
  cleaned_builds JSON    NOT NULL DEFAULT '[]',
  exit_code      INTEGER
);

CREATE INDEX gc_runs_by_started ON gc_runs (started_at DESC);
