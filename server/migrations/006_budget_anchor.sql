-- The server's own crediting budget (a token bucket, see docs/DESIGN.md): budget_anchor is the
-- server time in ms up to which earning time has been spent. NULL means "not yet contacted";
-- the server sets it on first contact. pending_review is the sum of the user's pending review
-- items, kept on the row so the state answer needs no second query.
ALTER TABLE user_earnings
ADD COLUMN IF NOT EXISTS budget_anchor BIGINT,
ADD COLUMN IF NOT EXISTS pending_review NUMERIC(18,8) NOT NULL DEFAULT 0;

-- The base table allowed NULL and negative money; the fix does not.
UPDATE user_earnings SET current_earnings = 0 WHERE current_earnings IS NULL;
UPDATE user_earnings SET total_earned = 0 WHERE total_earned IS NULL;
UPDATE user_earnings SET earning_rate = 0 WHERE earning_rate IS NULL;
UPDATE user_earnings SET base_earning_rate = 0 WHERE base_earning_rate IS NULL;

ALTER TABLE user_earnings
ALTER COLUMN current_earnings SET NOT NULL,
ALTER COLUMN total_earned SET NOT NULL,
ALTER COLUMN earning_rate SET NOT NULL,
ALTER COLUMN base_earning_rate SET NOT NULL,
ADD CONSTRAINT user_earnings_current_earnings_non_negative CHECK (current_earnings >= 0),
ADD CONSTRAINT user_earnings_total_earned_non_negative CHECK (total_earned >= 0),
ADD CONSTRAINT user_earnings_earning_rate_non_negative CHECK (earning_rate >= 0),
ADD CONSTRAINT user_earnings_base_earning_rate_non_negative CHECK (base_earning_rate >= 0),
ADD CONSTRAINT user_earnings_pending_review_non_negative CHECK (pending_review >= 0),
ADD CONSTRAINT user_earnings_budget_anchor_non_negative CHECK (budget_anchor >= 0);
