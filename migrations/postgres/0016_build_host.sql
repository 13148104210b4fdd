-- Which machine ran each build: see ../0016_build_host.sql (the same in SQLite).
ALTER TABLE builds ADD COLUMN host TEXT;
UPDATE builds SET host = lease_host WHERE lease_host IS NOT NULL;
