-- migrate: batched
-- NULL money of the rows already there becomes 0 (006 refuses NULL for every write since), in
-- batches of $2 rows by id, each its own transaction (server/migrate.js): no row is locked for
-- longer than one batch. Rows without a NULL are not written. On a database that ran 006's first
-- text (which filled them in one statement) it finds nothing to fill.
WITH batch AS (
  SELECT id FROM user_earnings
  WHERE $1::bigint IS NULL OR id > $1::bigint
  ORDER BY id
  LIMIT $2
), filled AS (
  UPDATE user_earnings u SET
    current_earnings = COALESCE(u.current_earnings, 0),
    total_earned = COALESCE(u.total_earned, 0),
    earning_rate = COALESCE(u.earning_rate, 0),
    base_earning_rate = COALESCE(u.base_earning_rate, 0)
  FROM batch
  WHERE u.id = batch.id
    AND (u.current_earnings IS NULL OR u.total_earned IS NULL OR u.earning_rate IS NULL OR u.base_earning_rate IS NULL)
)
SELECT max(id)::text AS last_key FROM batch
