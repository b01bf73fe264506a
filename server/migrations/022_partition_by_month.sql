-- A year of data: every sync keeps audit rows and op results, and without an end they grow by
-- gigabytes a day at scale. Both tables become partitioned by month (declarative range
-- partitioning on their timestamp), so that the retention job (server/retention.js, README
-- "Data retention") can drop a month whole: no DELETE, no bloat, no vacuum debt. Before a month
-- is dropped, what it held is added to each user's earnings_checkpoints row, so conservation
-- stays checkable forever: total_earned = checkpoint + what the kept partitions hold.
--
-- The tables as they were become the oldest partition of the new ones (everything up to the end
-- of the month of their newest row), so no row is copied. A DEFAULT partition takes rows whose
-- month has no partition yet (the job creates months ahead; a row is never refused for lack of
-- one, and the job moves such rows into their month when it creates it).
--
-- Bytes: the audit log loses its primary key on `id` alone (an index per row that no query used;
-- a distributed database could not keep it either: keys must contain user_id) and its client_id
-- (op_id is `clientId:seq` already); op results lose op_id (it is `clientId:seq`, both stored).
--
-- Cost on a live database: catalog changes, dropping two indexes and two columns (no rewrite),
-- and one sequential scan of each old table, to find its newest row and to prove every row
-- falls before the new partitions (attaching a partition checks its rows). Writes to the two
-- tables wait for it: 1.8 to 2.6 s with a million rows in each (docs/PERFORMANCE.md).

CREATE TABLE IF NOT EXISTS earnings_checkpoints (
  user_id BIGINT PRIMARY KEY,
  -- sum of new_value - old_value over the dropped crediting audit rows
  audit_credited NUMERIC(18,8) NOT NULL DEFAULT 0,
  audit_rows BIGINT NOT NULL DEFAULT 0,
  -- sum of credited over the dropped op results
  credited_ops NUMERIC(18,8) NOT NULL DEFAULT 0,
  op_results BIGINT NOT NULL DEFAULT 0,
  -- rows before this time are only in the checkpoint
  through TIMESTAMP WITH TIME ZONE NOT NULL
);

ALTER TABLE earnings_audit_log RENAME TO earnings_audit_log_legacy;
ALTER TABLE earnings_audit_log_legacy DROP CONSTRAINT earnings_audit_log_pkey, DROP COLUMN client_id;
ALTER INDEX idx_earnings_audit_log_user RENAME TO earnings_audit_log_legacy_user;
CREATE TABLE earnings_audit_log (
  id BIGINT NOT NULL DEFAULT nextval('earnings_audit_log_id_seq'),
  user_id BIGINT NOT NULL,
  operation_type VARCHAR(32) NOT NULL,
  old_value NUMERIC(18,8),
  new_value NUMERIC(18,8),
  timestamp TIMESTAMP WITH TIME ZONE NOT NULL DEFAULT CURRENT_TIMESTAMP,
  -- 'admin': rate changes by the app's backend (015), already in the table this one takes over.
  source VARCHAR(20) NOT NULL CONSTRAINT earnings_audit_log_source_check
    CHECK (source IN ('local', 'sync', 'reconciliation', 'admin')),
  metadata JSONB NOT NULL DEFAULT '{}'::jsonb,
  op_id VARCHAR(96)
) PARTITION BY RANGE (timestamp);
ALTER SEQUENCE earnings_audit_log_id_seq OWNED BY earnings_audit_log.id;
CREATE INDEX idx_earnings_audit_log_user ON earnings_audit_log (user_id, id);
CREATE TABLE earnings_audit_log_default PARTITION OF earnings_audit_log DEFAULT;

ALTER TABLE sync_op_results RENAME TO sync_op_results_legacy;
ALTER TABLE sync_op_results_legacy DROP COLUMN op_id;
CREATE TABLE sync_op_results (
  user_id BIGINT NOT NULL,
  client_id VARCHAR(64) NOT NULL,
  seq BIGINT NOT NULL CONSTRAINT sync_op_results_seq_check CHECK (seq > 0),
  status VARCHAR(16) NOT NULL CONSTRAINT sync_op_results_status_check CHECK (status IN ('applied', 'review', 'rejected')),
  credited NUMERIC(18,8) NOT NULL DEFAULT 0 CONSTRAINT sync_op_results_credited_check CHECK (credited >= 0),
  review NUMERIC(18,8) NOT NULL DEFAULT 0 CONSTRAINT sync_op_results_review_check CHECK (review >= 0),
  code VARCHAR(32),
  reason TEXT,
  created_at TIMESTAMP WITH TIME ZONE NOT NULL DEFAULT CURRENT_TIMESTAMP
) PARTITION BY RANGE (created_at);
-- The answer to an op is looked up by (user, client, seq) when it is resent. A unique key on the
-- partitioned table would have to include created_at, which the lookup does not know; each
-- month's partition has its own unique index instead (the old table keeps its primary key).
-- Uniqueness across months is kept by last_seq: an op result is only written for a new seq.
CREATE TABLE sync_op_results_default PARTITION OF sync_op_results DEFAULT;
CREATE UNIQUE INDEX sync_op_results_default_op ON sync_op_results_default (user_id, client_id, seq);

-- Where each partition of the two tables starts and ends, read from the catalog (the bound's
-- text carries its UTC offset, so the cast back is exact whatever the session's time zone).
-- lower is NULL for MINVALUE; both are NULL for the DEFAULT partition.
CREATE FUNCTION earnings_partitions() RETURNS TABLE (parent regclass, partition regclass, lower timestamptz, upper timestamptz)
LANGUAGE sql STABLE AS $$
  SELECT i.inhparent::regclass, c.oid::regclass,
    NULLIF(substring(pg_get_expr(c.relpartbound, c.oid) FROM $r$FROM \('([^']+)'\)$r$), '')::timestamptz,
    NULLIF(substring(pg_get_expr(c.relpartbound, c.oid) FROM $r$TO \('([^']+)'\)$r$), '')::timestamptz
  FROM pg_inherits i JOIN pg_class c ON c.oid = i.inhrelid
  WHERE i.inhparent IN ('earnings_audit_log'::regclass, 'sync_op_results'::regclass)
$$;

-- Creates the month partitions of both tables from the month of `since` through the month of
-- `through`, skipping months an existing partition covers. Rows of such a month that waited in
-- the DEFAULT partition move into it: the default is locked against writes meanwhile (only rows
-- without a month write there), so the attach that follows finds none left behind.
CREATE FUNCTION earnings_prepare_partitions(since timestamptz, through timestamptz) RETURNS integer
LANGUAGE plpgsql AS $$
DECLARE
  target record;
  month timestamptz;
  part text;
  created integer := 0;
BEGIN
  FOR target IN SELECT * FROM (VALUES ('earnings_audit_log', 'timestamp'), ('sync_op_results', 'created_at')) AS t(tab, ts)
  LOOP
    month := date_trunc('month', since, 'UTC');
    WHILE month <= through LOOP
      IF NOT EXISTS (SELECT 1 FROM earnings_partitions() p
                     WHERE p.parent = target.tab::regclass AND p.upper IS NOT NULL
                       AND p.upper > month AND (p.lower IS NULL OR p.lower < month + INTERVAL '1 month')) THEN
        part := format('%s_p%s', target.tab, to_char(month AT TIME ZONE 'UTC', 'YYYYMM'));
        EXECUTE format('LOCK TABLE %I IN EXCLUSIVE MODE', target.tab || '_default');
        EXECUTE format('CREATE TABLE %I (LIKE %I INCLUDING DEFAULTS INCLUDING CONSTRAINTS)', part, target.tab);
        EXECUTE format('WITH moved AS (DELETE FROM %I WHERE %I >= $1 AND %I < $2 RETURNING *) INSERT INTO %I SELECT * FROM moved',
                       target.tab || '_default', target.ts, target.ts, part)
          USING month, month + INTERVAL '1 month';
        IF target.tab = 'sync_op_results' THEN
          EXECUTE format('CREATE UNIQUE INDEX %I ON %I (user_id, client_id, seq)', part || '_op', part);
        END IF;
        EXECUTE format('ALTER TABLE %I ATTACH PARTITION %I FOR VALUES FROM (%L) TO (%L)',
                       target.tab, part, month, month + INTERVAL '1 month');
        created := created + 1;
      END IF;
      month := month + INTERVAL '1 month';
    END LOOP;
  END LOOP;
  RETURN created;
END
$$;

-- Drops one month partition (or the old tables' partition) after adding what it holds to each
-- user's checkpoint, in the caller's transaction, so a reader sees either the rows or their sum.
-- The partition is locked against writes first (none are expected: its month is past).
CREATE FUNCTION earnings_drop_partition(part regclass) RETURNS bigint
LANGUAGE plpgsql AS $$
DECLARE
  parent regclass;
  through timestamptz;
  dropped bigint;
BEGIN
  SELECT p.parent, p.upper INTO parent, through FROM earnings_partitions() p WHERE p.partition = part AND p.upper IS NOT NULL;
  IF parent IS NULL THEN
    RAISE EXCEPTION 'earnings_drop_partition: % is not a month partition of the audit log or the op results', part;
  END IF;
  EXECUTE format('LOCK TABLE %s IN EXCLUSIVE MODE', part);
  IF parent = 'earnings_audit_log'::regclass THEN
    EXECUTE format(
      $q$INSERT INTO earnings_checkpoints AS c (user_id, audit_credited, audit_rows, through)
         SELECT user_id,
           COALESCE(SUM(new_value - old_value) FILTER (WHERE operation_type IN ('credit', 'review_approved', 'opening_balance')), 0),
           COUNT(*), $1
         FROM %s GROUP BY user_id
         ON CONFLICT (user_id) DO UPDATE SET audit_credited = c.audit_credited + EXCLUDED.audit_credited,
           audit_rows = c.audit_rows + EXCLUDED.audit_rows, through = GREATEST(c.through, EXCLUDED.through)$q$, part)
      USING through;
  ELSE
    EXECUTE format(
      $q$INSERT INTO earnings_checkpoints AS c (user_id, credited_ops, op_results, through)
         SELECT user_id, SUM(credited), COUNT(*), $1 FROM %s GROUP BY user_id
         ON CONFLICT (user_id) DO UPDATE SET credited_ops = c.credited_ops + EXCLUDED.credited_ops,
           op_results = c.op_results + EXCLUDED.op_results, through = GREATEST(c.through, EXCLUDED.through)$q$, part)
      USING through;
  END IF;
  GET DIAGNOSTICS dropped = ROW_COUNT;
  EXECUTE format('DROP TABLE %s', part);
  RETURN dropped;
END
$$;

-- The old tables join as the partition of everything up to the end of their newest row's month;
-- empty ones (a fresh database) are simply dropped.
DO $$
DECLARE
  target record;
  newest timestamptz;
  cutover timestamptz;
BEGIN
  FOR target IN SELECT * FROM (VALUES ('earnings_audit_log', 'timestamp'), ('sync_op_results', 'created_at')) AS t(tab, ts)
  LOOP
    EXECUTE format('SELECT max(%I) FROM %I', target.ts, target.tab || '_legacy') INTO newest;
    IF newest IS NULL THEN
      EXECUTE format('DROP TABLE %I', target.tab || '_legacy');
    ELSE
      cutover := date_trunc('month', newest, 'UTC') + INTERVAL '1 month';
      EXECUTE format('ALTER TABLE %I ATTACH PARTITION %I FOR VALUES FROM (MINVALUE) TO (%L)',
                     target.tab, target.tab || '_legacy', cutover);
    END IF;
  END LOOP;
END
$$;

SELECT earnings_prepare_partitions(now(), now() + INTERVAL '2 months');
