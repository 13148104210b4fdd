-- The build cache (issue 24, incremental builds). The same in PostgreSQL: ./postgres/0020_build_cache.sql.
-- 1. The store's own secret: a random value made once, under which a cache key's inputs that hold
--    a secret value (a sensitive variable, a password) are hashed (HMAC). Never printed or logged.
CREATE TABLE cache_secret (
  id     INTEGER PRIMARY KEY CHECK (id = 1),
  secret TEXT    NOT NULL
);

-- 2. Checkpoints: images of a build server's volumes between two provisioners, by cache key. A
--    row is claimed by the build that makes it (so that parallel builds reaching the same key make
--    one), then completed once its image is available; the event log holds each step, this table
--    is the index every build looks in. Teammates' checkpoints found in the cloud by tag are added
--    when first used.
CREATE TABLE checkpoints (
  key               TEXT    PRIMARY KEY,
  status            TEXT    NOT NULL CHECK (status IN ('claimed', 'available')),
  build_id          TEXT    NOT NULL,          -- the build that claimed and made it
  api_url           TEXT    NOT NULL,          -- a simulator's checkpoints are not the cloud's
  zone              TEXT    NOT NULL,
  template_path     TEXT    NOT NULL,
  builder_name      TEXT    NOT NULL,
  provisioner_index INTEGER NOT NULL,          -- the state after this provisioner (0-based)
  provisioner_type  TEXT    NOT NULL,
  manifest          TEXT    NOT NULL CHECK (json_valid(manifest)),   -- [{name, hash}]: never a value
  image_id          TEXT,
  snapshots         TEXT    NOT NULL DEFAULT '[]' CHECK (json_valid(snapshots)),  -- [{id, api?}]
  size_bytes        INTEGER,
  reach_ms          INTEGER,                   -- the provisioners it covers took this long: what a hit saves
  claimed_at        TEXT    NOT NULL,          -- ISO 8601
  created_at        TEXT,                      -- when it became available
  hits              INTEGER NOT NULL DEFAULT 0,
  last_hit_at       TEXT,
  last_hit_build    TEXT                       -- the latest build that started from it (gc spares it while that build runs)
);
CREATE INDEX checkpoints_by_step ON checkpoints (builder_name, provisioner_index);

-- 3. Where checkpoints pay: the recent `cache.checked` events (each build's keys) without reading
--    the rest of the log, as for the waits' history.
CREATE INDEX events_cache_checked ON events (type) WHERE type = 'cache.checked';
