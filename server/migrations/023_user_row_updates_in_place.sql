-- Every sync updates its user's row. An update that changes no indexed column, and finds room on
-- the row's page, is HOT (heap-only): no new entry in any index, and the old version is pruned in
-- place. The seed's two indexes made every such update a full one (bench/storage.js: 0 % HOT, and
-- four index entries per sync): idx_user_earnings_user_sync holds last_update and
-- idx_user_earnings_retry holds last_sync_attempt, and every sync sets both (an index's columns
-- count for HOT even where its predicate excludes the row).
-- - idx_user_earnings_user_sync goes: it leads with user_id, which is unique, so it can only ever
--   find the one row the user_id key finds already.
-- - idx_user_earnings_retry becomes idx_user_earnings_failing on retry_count alone, same
--   predicate: it still serves "whose syncs keep failing" (README; ordered by retry_count, the
--   few ties sorted by last_sync_attempt), and a sync that goes well leaves retry_count at 0 and
--   sync_status as it was, so its update stays HOT.
-- fillfactor 90 leaves room on each page for the next version of its rows (new pages only; a
-- full page makes room by pruning).
-- Cost on a live database: building the new partial index (one scan of user_earnings, writes
-- wait meanwhile; it holds only the failing rows), else catalog changes. Built beforehand with
--   CREATE INDEX CONCURRENTLY idx_user_earnings_failing ON user_earnings (retry_count) WHERE sync_status = 'failed';
-- it is found and not built again.
CREATE INDEX IF NOT EXISTS idx_user_earnings_failing ON user_earnings (retry_count) WHERE sync_status = 'failed';
DROP INDEX IF EXISTS idx_user_earnings_user_sync;
DROP INDEX IF EXISTS idx_user_earnings_retry;
ALTER TABLE user_earnings SET (fillfactor = 90);
