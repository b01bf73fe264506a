-- Checks the constraints 006 added NOT VALID against the rows already there. VALIDATE CONSTRAINT
-- takes SHARE UPDATE EXCLUSIVE: the app reads and writes the table while the scan runs. A legacy
-- row with negative money stops the upgrade here (check_violation), as 006's first text did.
-- Only constraints not yet validated: on a database that ran 006's first text they were
-- validated there, and user_earnings_money_present never existed.
DO $$
DECLARE
  unchecked text;
BEGIN
  FOR unchecked IN
    SELECT conname FROM pg_constraint
    WHERE conrelid = 'user_earnings'::regclass AND NOT convalidated
      AND conname IN ('user_earnings_money_present',
                      'user_earnings_current_earnings_non_negative', 'user_earnings_total_earned_non_negative',
                      'user_earnings_earning_rate_non_negative', 'user_earnings_base_earning_rate_non_negative',
                      'user_earnings_pending_review_non_negative', 'user_earnings_budget_anchor_non_negative')
    ORDER BY conname
  LOOP
    EXECUTE format('ALTER TABLE user_earnings VALIDATE CONSTRAINT %I', unchecked);
  END LOOP;
END
$$;
