-- Who holds a lease: see ../0018_lease_owner.sql (the same in SQLite).
ALTER TABLE builds ADD COLUMN lease_token TEXT;
ALTER TABLE builds ADD COLUMN lease_pid_space TEXT;
