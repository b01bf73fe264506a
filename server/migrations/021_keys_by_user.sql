-- Every key includes user_id, the column a distributed PostgreSQL (Citus) shards by: a primary or
-- unique key there must contain the distribution column. user_earnings and the review queue had
-- `id` alone as primary key; it becomes (id, user_id). `id` keeps its sequence and its meaning,
-- and an app that looks rows up by `id` alone still uses an index (id leads it); what goes is the
-- database's promise that `id` is unique on its own, which the sequence already keeps (and which
-- no sharded database could keep cheaply). Nothing else changes for such an app.
--
-- Cost on a live database: building one unique index per table, which blocks writes to that
-- table while it builds (about a second per million rows); then catalog changes only. To avoid
-- even that, build the indexes beforehand without blocking writes (README, "Upgrading"):
--   CREATE UNIQUE INDEX CONCURRENTLY user_earnings_id_user_id ON user_earnings (id, user_id);
--   CREATE UNIQUE INDEX CONCURRENTLY earnings_review_queue_id_user_id ON earnings_review_queue (id, user_id);
-- and this migration finds them and builds nothing. (A concurrent build that failed leaves an
-- invalid index behind; it is rebuilt here.)
DO $$
DECLARE
  target record;
BEGIN
  FOR target IN SELECT * FROM (VALUES ('user_earnings', 'user_earnings_id_user_id'),
                                      ('earnings_review_queue', 'earnings_review_queue_id_user_id')) AS t(tab, idx)
  LOOP
    IF EXISTS (SELECT 1 FROM pg_index i JOIN pg_class c ON c.oid = i.indexrelid
               WHERE c.relname = target.idx AND c.relnamespace = current_schema()::regnamespace AND NOT i.indisvalid) THEN
      EXECUTE format('DROP INDEX %I', target.idx);
    END IF;
    EXECUTE format('CREATE UNIQUE INDEX IF NOT EXISTS %I ON %I (id, user_id)', target.idx, target.tab);
  END LOOP;
END
$$;

ALTER TABLE user_earnings
  DROP CONSTRAINT user_earnings_pkey,
  ADD CONSTRAINT user_earnings_pkey PRIMARY KEY USING INDEX user_earnings_id_user_id;

ALTER TABLE earnings_review_queue
  DROP CONSTRAINT earnings_review_queue_pkey,
  ADD CONSTRAINT earnings_review_queue_pkey PRIMARY KEY USING INDEX earnings_review_queue_id_user_id;
