-- Exactly-once crediting. last_seq is the highest op sequence a client has had answered; it
-- moves in the same transaction as the credit, so an op at or below it is a duplicate. The
-- answer given to every op is kept so that a resent op (its response was lost) gets the same
-- answer again instead of a bare "duplicate".
CREATE TABLE IF NOT EXISTS sync_client_sequences (
  user_id BIGINT NOT NULL,
  client_id VARCHAR(64) NOT NULL,
  last_seq BIGINT NOT NULL DEFAULT 0 CHECK (last_seq >= 0),
  updated_at TIMESTAMP WITH TIME ZONE NOT NULL DEFAULT CURRENT_TIMESTAMP,
  PRIMARY KEY (user_id, client_id)
);

CREATE TABLE IF NOT EXISTS sync_op_results (
  user_id BIGINT NOT NULL,
  client_id VARCHAR(64) NOT NULL,
  seq BIGINT NOT NULL CHECK (seq > 0),
  op_id VARCHAR(96) NOT NULL,
  status VARCHAR(16) NOT NULL CHECK (status IN ('applied', 'review', 'rejected')),
  credited NUMERIC(18,8) NOT NULL DEFAULT 0 CHECK (credited >= 0),
  review NUMERIC(18,8) NOT NULL DEFAULT 0 CHECK (review >= 0),
  code VARCHAR(32),
  reason TEXT,
  created_at TIMESTAMP WITH TIME ZONE NOT NULL DEFAULT CURRENT_TIMESTAMP,
  PRIMARY KEY (user_id, client_id, seq)
);
