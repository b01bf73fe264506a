-- The app's own user_earnings may have no UNIQUE on user_id (migration 001 declares one, but on a
-- live database 001 found the app's table and created nothing). The server relies on one row per
-- user (ON CONFLICT (user_id), one lock per user), so it is added here when missing. Rows that
-- already share a user id, or have none, cannot be mended by a rule the server could know: the
-- upgrade stops and says which, and the operator merges or removes them first.
DO $$
DECLARE
  shared bigint;
  examples text;
  orphans bigint;
BEGIN
  SELECT count(*) INTO orphans FROM user_earnings WHERE user_id IS NULL;
  IF orphans > 0 THEN
    RAISE EXCEPTION 'user_earnings holds % row(s) without a user_id', orphans
      USING ERRCODE = 'not_null_violation',
            HINT = 'give each its user''s id or delete it, then start the server again';
  END IF;
  SELECT count(*), string_agg(user_id::text, ', ' ORDER BY user_id) FILTER (WHERE rank <= 5)
  INTO shared, examples
  FROM (
    SELECT user_id, row_number() OVER (ORDER BY user_id) AS rank
    FROM user_earnings WHERE user_id IS NOT NULL GROUP BY user_id HAVING count(*) > 1
  ) AS duplicated;
  IF shared > 0 THEN
    RAISE EXCEPTION 'user_earnings holds % user id(s) on more than one row (e.g. %)', shared, examples
      USING ERRCODE = 'unique_violation',
            HINT = 'merge each user''s rows into one, then start the server again';
  END IF;
  -- Building the index blocks the app's writes (not its reads) while it runs; an operator can
  -- build it beforehand without blocking (README, "Upgrading a live app's database") and nothing is
  -- built here. A concurrent build that failed leaves an invalid index: it is built again.
  IF NOT EXISTS (
    SELECT 1 FROM pg_index i
    JOIN pg_attribute a ON a.attrelid = i.indrelid AND a.attnum = i.indkey[0]
    WHERE i.indrelid = 'user_earnings'::regclass AND i.indisunique AND i.indisvalid AND i.indnatts = 1
      AND i.indpred IS NULL AND i.indexprs IS NULL AND a.attname = 'user_id'
  ) THEN
    DROP INDEX IF EXISTS user_earnings_user_id_unique;
    CREATE UNIQUE INDEX user_earnings_user_id_unique ON user_earnings (user_id);
  END IF;
END
$$;
