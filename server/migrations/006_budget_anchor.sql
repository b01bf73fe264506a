-- The server's own crediting budget (a token bucket, see docs/DESIGN.md): budget_anchor is the
-- server time in ms up to which earning time has been spent. NULL means "not yet contacted";
-- the server sets it on first contact. pending_review is the sum of the user's pending review
-- items, kept on the row so the state answer needs no second query.
--
-- The base table allowed NULL and negative money; the fix does not. Catalog changes only, so the
-- ACCESS EXCLUSIVE this takes on a live table lasts milliseconds: the columns need no rewrite
-- (a NULL and a constant default), and the constraints are added NOT VALID, so they hold for every
-- write from now on without a scan. The rows already there are then filled in committed batches
-- (006_money_backfill), checked without blocking the app (006_money_checked), and their money
-- columns made NOT NULL from that check, without a scan (006_money_not_null), which also drops
-- the two pieces of scaffolding below.
-- - user_earnings_money_present: what NOT NULL will say, as a check PostgreSQL can validate
--   without blocking the app and then prove NOT NULL from.
-- - user_earnings_money_filled: until the fill has passed a row, the app (still running) may
--   write to it; its NULL money becomes 0 on that write, as the fill would make it, instead of the
--   write failing the check above.
CREATE OR REPLACE FUNCTION user_earnings_money_filled() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
  NEW.current_earnings := COALESCE(NEW.current_earnings, 0);
  NEW.total_earned := COALESCE(NEW.total_earned, 0);
  NEW.earning_rate := COALESCE(NEW.earning_rate, 0);
  NEW.base_earning_rate := COALESCE(NEW.base_earning_rate, 0);
  RETURN NEW;
END
$$;

CREATE TRIGGER user_earnings_money_filled BEFORE INSERT OR UPDATE ON user_earnings
FOR EACH ROW EXECUTE FUNCTION user_earnings_money_filled();

ALTER TABLE user_earnings
ADD COLUMN IF NOT EXISTS budget_anchor BIGINT,
ADD COLUMN IF NOT EXISTS pending_review NUMERIC(18,8) NOT NULL DEFAULT 0,
ADD CONSTRAINT user_earnings_money_present
  CHECK (current_earnings IS NOT NULL AND total_earned IS NOT NULL
         AND earning_rate IS NOT NULL AND base_earning_rate IS NOT NULL) NOT VALID,
ADD CONSTRAINT user_earnings_current_earnings_non_negative CHECK (current_earnings >= 0) NOT VALID,
ADD CONSTRAINT user_earnings_total_earned_non_negative CHECK (total_earned >= 0) NOT VALID,
ADD CONSTRAINT user_earnings_earning_rate_non_negative CHECK (earning_rate >= 0) NOT VALID,
ADD CONSTRAINT user_earnings_base_earning_rate_non_negative CHECK (base_earning_rate >= 0) NOT VALID,
ADD CONSTRAINT user_earnings_pending_review_non_negative CHECK (pending_review >= 0) NOT VALID,
ADD CONSTRAINT user_earnings_budget_anchor_non_negative CHECK (budget_anchor >= 0) NOT VALID;
