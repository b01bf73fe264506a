-- Rates set by the app's backend (PUT /v1/admin/users/:userId/rate, setUserRate): the budget the
-- old rate earned up to the change is settled into budget_settled (src/credit.h,
-- plan_rate_change) and spent before any later time; each change is an audit row with source
-- 'admin'. Catalog changes only: the column's constant default needs no rewrite and both
-- constraints are added NOT VALID (they hold for every write from now on); 016 checks the rows
-- already there without blocking the app.
ALTER TABLE user_earnings
ADD COLUMN IF NOT EXISTS budget_settled NUMERIC(18,8) NOT NULL DEFAULT 0;

ALTER TABLE user_earnings
ADD CONSTRAINT user_earnings_budget_settled_non_negative CHECK (budget_settled >= 0) NOT VALID;

-- 003 named no constraint; PostgreSQL called its CHECK earnings_audit_log_source_check.
ALTER TABLE earnings_audit_log DROP CONSTRAINT IF EXISTS earnings_audit_log_source_check;
ALTER TABLE earnings_audit_log
ADD CONSTRAINT earnings_audit_log_source_check
  CHECK (source IN ('local', 'sync', 'reconciliation', 'admin')) NOT VALID;
