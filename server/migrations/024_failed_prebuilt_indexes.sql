-- The README has operators build the upgrade's indexes beforehand with CREATE INDEX CONCURRENTLY.
-- Such a build that fails (cancelled, a deadlock, a duplicate key, a full disk) leaves an INVALID
-- index of its name behind: the planner never uses it, and a CREATE INDEX IF NOT EXISTS finds the
-- name and builds nothing. 009 and 021 rebuild theirs when they find them invalid; 023 kept an
-- invalid idx_user_earnings_failing, so "whose syncs keep failing" (README) scanned the table.
-- Here it is built again, on databases that ran 023 already as on new upgrades.
-- One invalid index remains possible beside them: user_earnings_user_id_unique where the app's
-- table had a UNIQUE on user_id of its own, which 009 found and kept instead. That key already does
-- the index's job (a valid unique index on user_id exists, 009 checked), so it is only dropped.
-- (021's two indexes became primary keys, which cannot be invalid.)
-- Cost: nothing where no build failed; otherwise one scan of user_earnings for the failing index,
-- writes to it waiting meanwhile (build it again CONCURRENTLY beforehand to skip that, README).
DO $$
BEGIN
  IF EXISTS (SELECT 1 FROM pg_index i JOIN pg_class c ON c.oid = i.indexrelid
             WHERE c.relname = 'idx_user_earnings_failing' AND c.relnamespace = current_schema()::regnamespace
               AND NOT i.indisvalid) THEN
    DROP INDEX idx_user_earnings_failing;
    CREATE INDEX idx_user_earnings_failing ON user_earnings (retry_count) WHERE sync_status = 'failed';
  END IF;
  IF EXISTS (SELECT 1 FROM pg_index i JOIN pg_class c ON c.oid = i.indexrelid
             WHERE c.relname = 'user_earnings_user_id_unique' AND c.relnamespace = current_schema()::regnamespace
               AND NOT i.indisvalid) THEN
    DROP INDEX user_earnings_user_id_unique;
  END IF;
END
$$;
