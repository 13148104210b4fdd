-- kiln's event store in PostgreSQL: the same tables, columns and meaning as ../0001_init.sql
-- (SQLite), in PostgreSQL's dialect. JSON columns are `json` (kept as written, key order too,
-- as SQLite keeps its text); times stay ISO 8601 text and epoch milliseconds, as in SQLite, so
-- both stores give the same records.

CREATE TABLE events (
  id       BIGINT  GENERATED ALWAYS AS IDENTITY PRIMARY KEY,   -- insertion order across builds (SQLite's rowid)
  build_id TEXT    NOT NULL,
  seq      INTEGER NOT NULL,          -- 1-based, per build, gap-free
  at       TEXT    NOT NULL,          -- ISO 8601
  type     TEXT    NOT NULL,
  phase    TEXT,
  attempt  INTEGER NOT NULL DEFAULT 0,
  data     JSON    NOT NULL DEFAULT '{}',
  UNIQUE (build_id, seq)
);

CREATE TABLE builds (
  pos               BIGINT  GENERATED ALWAYS AS IDENTITY,   -- creation order (SQLite's rowid)
  id                TEXT PRIMARY KEY,
  template_path     TEXT    NOT NULL,
  template_hash     TEXT    NOT NULL,
  builder_name      TEXT    NOT NULL,
  status            TEXT    NOT NULL,
  phase             TEXT,
  attempt           INTEGER NOT NULL DEFAULT 0,
  provisioner_index INTEGER NOT NULL DEFAULT 0,
  spec              JSON    NOT NULL,   -- redacted: no secret
  on_error          TEXT    NOT NULL,
  resources         JSON    NOT NULL DEFAULT '{}',
  artifact          JSON,
  error             JSON,
  lease_pid         INTEGER,
  lease_host        TEXT,
  lease_expires_at  BIGINT,           -- epoch ms, by the database's clock
  created_at        TEXT    NOT NULL,
  updated_at        TEXT    NOT NULL,
  last_seq          INTEGER NOT NULL DEFAULT 0
);

CREATE INDEX builds_by_created ON builds (created_at DESC, pos DESC);
CREATE INDEX builds_by_status ON builds (status);
