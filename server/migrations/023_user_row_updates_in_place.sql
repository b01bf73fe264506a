-- Every sync updates its user's row. An update that changes no indexed column, and finds room on
-- the row's page, is HOT (heap-only): no new entry in any index, and the old version is pruned in
-- place. The seed's two indexes made every such update a full one (bench/storage.js: 0 % HOT, and
-- four index entries per sync): idx_user_earnings_user_sync holds last_update, which every sync
-- sets, and idx_user_earnings_retry holds last_sync_attempt. Both go:
-- - idx_user_earnings_user_sync leads with user_id, which is unique: it can only ever find the
--   one row the user_id key finds already.
-- - idx_user_earnings_retry covers rows WHERE sync_status = 'failed', and no row is: this server
--   writes 'synced' with every credit, and retries live on the device (the client's outbox).
-- fillfactor 90 leaves room on each page for the next version of its rows (new pages only; a
-- full page makes room by pruning).
-- Cost on a live database: dropping two indexes and setting an option, catalog changes only.
DROP INDEX IF EXISTS idx_user_earnings_user_sync;
DROP INDEX IF EXISTS idx_user_earnings_retry;
ALTER TABLE user_earnings SET (fillfactor = 90);
