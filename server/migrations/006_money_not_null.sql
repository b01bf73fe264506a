-- The money columns become NOT NULL. SET NOT NULL would scan the table under ACCESS EXCLUSIVE,
-- except that PostgreSQL (12 and later) skips the scan when a validated CHECK proves the column
-- holds no NULL: user_earnings_money_present, validated by 006_money_checked. So this is a
-- catalog change. 006's scaffolding goes: the check says nothing NOT NULL does not, and no NULL
-- is left for the trigger to fill. On a database that ran 006's first text the columns are NOT
-- NULL already and neither piece of scaffolding ever existed: nothing changes.
ALTER TABLE user_earnings
ALTER COLUMN current_earnings SET NOT NULL,
ALTER COLUMN total_earned SET NOT NULL,
ALTER COLUMN earning_rate SET NOT NULL,
ALTER COLUMN base_earning_rate SET NOT NULL;

-- A statement of its own: in the ALTER TABLE above it would be dropped before the proof.
ALTER TABLE user_earnings DROP CONSTRAINT IF EXISTS user_earnings_money_present;

DROP TRIGGER IF EXISTS user_earnings_money_filled ON user_earnings;
DROP FUNCTION IF EXISTS user_earnings_money_filled();
