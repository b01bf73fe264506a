-- Checks the constraints 012 added against the rows already there. VALIDATE CONSTRAINT takes
-- SHARE UPDATE EXCLUSIVE: the app reads and writes the table while the scan runs.
ALTER TABLE user_earnings VALIDATE CONSTRAINT user_earnings_state_times_present;
ALTER TABLE user_earnings VALIDATE CONSTRAINT user_earnings_sync_columns_valid;
ALTER TABLE user_earnings VALIDATE CONSTRAINT user_earnings_one_rate;
