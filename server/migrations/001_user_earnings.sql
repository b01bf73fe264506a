-- The user_earnings table as the mining app had it before the persistence fix. Kept as it was so
-- that an existing production database and a fresh one reach the same schema through the same
-- migrations; everything the fix needs is added by the migrations after this one.
CREATE TABLE IF NOT EXISTS user_earnings (
  id BIGSERIAL PRIMARY KEY,
  user_id BIGINT UNIQUE NOT NULL,
  current_earnings NUMERIC(18,8) DEFAULT 0,
  earning_rate NUMERIC(18,8) DEFAULT 0,
  is_active BOOLEAN DEFAULT true,
  last_update TIMESTAMP WITH TIME ZONE DEFAULT CURRENT_TIMESTAMP,
  created_at TIMESTAMP WITH TIME ZONE DEFAULT CURRENT_TIMESTAMP,
  updated_at TIMESTAMP WITH TIME ZONE DEFAULT CURRENT_TIMESTAMP,
  total_earned NUMERIC(18,8) DEFAULT 0
);
