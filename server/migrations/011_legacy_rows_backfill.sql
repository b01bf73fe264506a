-- migrate: batched
-- The rows the app had before the fix (never contacted by the server: budget_anchor NULL) become
-- rows the server credits as the app did (docs/DESIGN.md, "Upgrading a live app's table"):
--   base_earning_rate  the app's earning_rate (002 added it as 0, which would send every sync to
--                      review), and on any row whose two rates differ, the one 010 keeps;
--   budget_anchor      the app's last_update (the moment its earnings were settled), never in the
--                      future: the time since is earning time the client may still claim, capped
--                      by the offline cap like anyone's;
--   last_update        the upgrade's time where the app left it NULL;
--   start_date         the row's created_at when earlier (002 set it to the upgrade's time).
-- Every other value stays as the app left it. Runs in batches of $2 rows by id (the app's primary
-- key), each its own transaction (server/migrate.js).
WITH batch AS (
  SELECT id FROM user_earnings
  WHERE $1::bigint IS NULL OR id > $1::bigint
  ORDER BY id
  LIMIT $2
), converted AS (
  UPDATE user_earnings u SET
    base_earning_rate = CASE WHEN u.base_earning_rate = 0 THEN u.earning_rate ELSE u.base_earning_rate END,
    earning_rate = CASE WHEN u.base_earning_rate = 0 THEN u.earning_rate ELSE u.base_earning_rate END,
    budget_anchor = COALESCE(u.budget_anchor,
      (EXTRACT(EPOCH FROM LEAST(COALESCE(u.last_update, CURRENT_TIMESTAMP), CURRENT_TIMESTAMP)) * 1000)::bigint),
    last_update = COALESCE(u.last_update, CURRENT_TIMESTAMP),
    start_date = CASE WHEN u.budget_anchor IS NULL THEN COALESCE(LEAST(u.created_at, u.start_date), CURRENT_TIMESTAMP)
                      ELSE u.start_date END
  FROM batch
  WHERE u.id = batch.id
    AND (u.budget_anchor IS NULL OR u.last_update IS NULL OR u.earning_rate <> u.base_earning_rate)
)
SELECT max(id)::text AS last_key FROM batch
