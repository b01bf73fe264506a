-- Earnings the server would not credit on its own (over the budget, or sent as 'verification'
-- after a long offline period). They are neither credited nor lost: an admin approves (credited
-- once, in the same transaction as the status change) or rejects them.
CREATE TABLE IF NOT EXISTS earnings_review_queue (
  id BIGSERIAL PRIMARY KEY,
  user_id BIGINT NOT NULL,
  client_id VARCHAR(64) NOT NULL,
  op_id VARCHAR(96) NOT NULL,
  seq BIGINT NOT NULL,
  amount NUMERIC(18,8) NOT NULL CHECK (amount > 0),
  reason VARCHAR(64) NOT NULL,
  context JSONB NOT NULL DEFAULT '{}'::jsonb,
  status VARCHAR(16) NOT NULL DEFAULT 'pending' CHECK (status IN ('pending', 'approved', 'rejected')),
  created_at TIMESTAMP WITH TIME ZONE NOT NULL DEFAULT CURRENT_TIMESTAMP,
  decided_at TIMESTAMP WITH TIME ZONE,
  decided_note TEXT,
  UNIQUE (user_id, client_id, seq)
);

CREATE INDEX IF NOT EXISTS idx_earnings_review_queue_pending
ON earnings_review_queue(created_at, id) WHERE status = 'pending';
