-- The build cache: see ../0020_build_cache.sql (the same tables in SQLite).
CREATE TABLE cache_secret (
  id     INTEGER PRIMARY KEY CHECK (id = 1),
  secret TEXT    NOT NULL
);

CREATE TABLE checkpoints (
  key               TEXT    PRIMARY KEY,
  status            TEXT    NOT NULL CHECK (status IN ('claimed', 'available')),
  build_id          TEXT    NOT NULL,
  api_url           TEXT    NOT NULL,
  zone              TEXT    NOT NULL,
  template_path     TEXT    NOT NULL,
  builder_name      TEXT    NOT NULL,
  provisioner_index INTEGER NOT NULL,
  provisioner_type  TEXT    NOT NULL,
  manifest          JSON    NOT NULL,
  image_id          TEXT,
  snapshots         JSON    NOT NULL DEFAULT '[]',
  size_bytes        BIGINT,
  reach_ms          BIGINT,
  claimed_at        TEXT    NOT NULL,
  created_at        TEXT,
  hits              INTEGER NOT NULL DEFAULT 0,
  last_hit_at       TEXT,
  last_hit_build    TEXT
);
CREATE INDEX checkpoints_by_step ON checkpoints (builder_name, provisioner_index);

CREATE INDEX events_cache_checked ON events (id) WHERE type = 'cache.checked';
