-- The seed's EarningsAuditLog. Every change of total_earned writes one row in the same
-- transaction, so total_earned equals the sum of (new_value - old_value) over the rows that
-- credit (operation_type 'credit' and 'review_approved'). op_id and client_id are indexed
-- columns rather than metadata keys so that an op can be traced without scanning JSON.
CREATE TABLE IF NOT EXISTS earnings_audit_log (
  id BIGSERIAL PRIMARY KEY,
  user_id BIGINT NOT NULL,
  operation_type VARCHAR(32) NOT NULL,
  old_value NUMERIC(18,8),
  new_value NUMERIC(18,8),
  timestamp TIMESTAMP WITH TIME ZONE NOT NULL DEFAULT CURRENT_TIMESTAMP,
  source VARCHAR(20) NOT NULL CHECK (source IN ('local', 'sync', 'reconciliation')),
  metadata JSONB NOT NULL DEFAULT '{}'::jsonb,
  client_id VARCHAR(64),
  op_id VARCHAR(96)
);

CREATE INDEX IF NOT EXISTS idx_earnings_audit_log_user
ON earnings_audit_log(user_id, id);
