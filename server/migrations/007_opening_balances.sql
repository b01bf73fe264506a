-- Balances that existed before the fix were never audited. One 'opening_balance' record per
-- such user makes the conservation invariant (total_earned equals the sum of the audit log's
-- crediting records) true from the upgrade on, instead of only for users created after it.
INSERT INTO earnings_audit_log (user_id, operation_type, old_value, new_value, source, metadata)
SELECT u.user_id, 'opening_balance', 0, u.total_earned, 'reconciliation', '{"migration": "007"}'::jsonb
FROM user_earnings u
WHERE u.total_earned > 0
  AND NOT EXISTS (SELECT 1 FROM earnings_audit_log a WHERE a.user_id = u.user_id);
