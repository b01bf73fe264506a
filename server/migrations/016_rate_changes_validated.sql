-- Checks the constraints 015 added against the rows already there. VALIDATE CONSTRAINT takes
-- SHARE UPDATE EXCLUSIVE: the app reads and writes both tables while the scans run.
ALTER TABLE user_earnings VALIDATE CONSTRAINT user_earnings_budget_settled_non_negative;
ALTER TABLE earnings_audit_log VALIDATE CONSTRAINT earnings_audit_log_source_check;
