-- kiln's event store (DESIGN.md, "The spine"): an append-only log of build events and the
-- per-build projection that is updated in the same transaction as each append.

CREATE TABLE events (
  build_id TEXT    NOT NULL,
  seq      INTEGER NOT NULL,          -- 1-based, per build, gap-free
  at       TEXT    NOT NULL,          -- ISO 8601
  type     TEXT    NOT NULL,
  phase    TEXT,
  attempt  INTEGER NOT NULL DEFAULT 0,
  data     TEXT    NOT NULL DEFAULT '{}' CHECK (json_valid(data)),
  UNIQUE (build_id, seq)
);

CREATE TABLE builds (
  id                TEXT PRIMARY KEY,
  template_path     TEXT    NOT NULL,
  template_hash     TEXT    NOT NULL,
  builder_name      TEXT    NOT NULL,
  status            TEXT    NOT NULL,
  phase             TEXT,
  attempt           INTEGER NOT NULL DEFAULT 0,
  provisioner_index INTEGER NOT NULL DEFAULT 0,
  spec              TEXT    NOT NULL CHECK (json_valid(spec)),   -- redacted: no secret
  on_error          TEXT    NOT NULL,
  resources         TEXT    NOT NULL DEFAULT '{}' CHECK (json_valid(resources)),
  artifact          TEXT             CHECK (artifact IS NULL OR json_valid(artifact)),
  error             TEXT             CHECK (error IS NULL OR json_valid(error)),
  lease_pid         INTEGER,
  lease_host        TEXT,
  lease_expires_at  INTEGER,          -- epoch ms
  created_at        TEXT    NOT NULL,
  updated_at        TEXT    NOT NULL,
  last_seq          INTEGER NOT NULL DEFAULT 0
);

CREATE INDEX builds_by_created ON builds (created_at DESC);
CREATE INDEX builds_by_status ON builds (status);
