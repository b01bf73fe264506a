-- Add missing fields to user_earnings table
ALTER TABLE user_earnings 
ADD COLUMN IF NOT EXISTS start_date TIMESTAMP WITH TIME ZONE DEFAULT CURRENT_TIMESTAMP,
ADD COLUMN IF NOT EXISTS base_earning_rate NUMERIC(18,8) DEFAULT 0,
ADD COLUMN IF NOT EXISTS sync_status VARCHAR(20) DEFAULT 'synced',
ADD COLUMN IF NOT EXISTS last_sync_attempt TIMESTAMP WITH TIME ZONE,
ADD COLUMN IF NOT EXISTS retry_count INTEGER DEFAULT 0;

-- The seed's change went on to build two indexes, idx_user_earnings_user_sync and
-- idx_user_earnings_retry; 023 drops both (a sync's update of its row would never be heap-only
-- with them) and builds idx_user_earnings_failing in their place. They are no longer built here:
-- built by the ALTER TABLE's transaction they held its ACCESS EXCLUSIVE on user_earnings for two
-- scans of the live table, only to be dropped by 023. What stays is a catalog change (constant and
-- stable defaults need no rewrite). Databases that ran the seed's text verbatim keep it
-- (server/migrate.js, SUPERSEDED).
