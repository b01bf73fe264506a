-- Add missing fields to user_earnings table
ALTER TABLE user_earnings 
ADD COLUMN IF NOT EXISTS start_date TIMESTAMP WITH TIME ZONE DEFAULT CURRENT_TIMESTAMP,
ADD COLUMN IF NOT EXISTS base_earning_rate NUMERIC(18,8) DEFAULT 0,
ADD COLUMN IF NOT EXISTS sync_status VARCHAR(20) DEFAULT 'synced',
ADD COLUMN IF NOT EXISTS last_sync_attempt TIMESTAMP WITH TIME ZONE,
ADD COLUMN IF NOT EXISTS retry_count INTEGER DEFAULT 0;

-- Create indexes for performance
CREATE INDEX IF NOT EXISTS idx_user_earnings_user_sync 
ON user_earnings(user_id, sync_status, last_update);

CREATE INDEX IF NOT EXISTS idx_user_earnings_retry 
ON user_earnings(retry_count, last_sync_attempt) 
WHERE sync_status = 'failed';
