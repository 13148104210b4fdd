-- Which machine ran each build (issue 16): with a shared store, `kiln ls` tells a team's builds
-- apart by host. The host of the process that last took the build's lease (started or resumed
-- it); it stays when the lease is released.
ALTER TABLE builds ADD COLUMN host TEXT;
UPDATE builds SET host = lease_host WHERE lease_host IS NOT NULL;
