-- A revision on each user_earnings row, so the sync server can plan a credit on a row it read
-- earlier (or cached) and write it back only if the row has not changed since: the write is one
-- statement that updates the row WHERE revision is still the one planned on, and records the ops
-- only for rows it updated. Set by a trigger on every insert and update, from whatever writes the
-- row (syncs, review decisions, an operator's SQL), to the writing transaction's id: 64-bit,
-- never reused, so a row deleted and created again never matches a revision read before.
ALTER TABLE user_earnings ADD COLUMN IF NOT EXISTS revision BIGINT NOT NULL DEFAULT 0;

CREATE OR REPLACE FUNCTION user_earnings_stamp_revision() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
  NEW.revision := txid_current();
  RETURN NEW;
END
$$;

DROP TRIGGER IF EXISTS user_earnings_revision ON user_earnings;
CREATE TRIGGER user_earnings_revision BEFORE INSERT OR UPDATE ON user_earnings
FOR EACH ROW EXECUTE FUNCTION user_earnings_stamp_revision();
