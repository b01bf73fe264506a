-- What the server relies on, as constraints: a row always has the times the state answer carries,
-- its sync status is one the seed names, and its two rates are one (010). Added NOT VALID (a
-- catalog change, no scan under ACCESS EXCLUSIVE), so they hold for every write from now on; 013
-- checks the rows already there without blocking the app.
ALTER TABLE user_earnings
ADD CONSTRAINT user_earnings_state_times_present
  CHECK (last_update IS NOT NULL AND start_date IS NOT NULL) NOT VALID,
ADD CONSTRAINT user_earnings_sync_columns_valid
  CHECK (sync_status IS NOT NULL AND sync_status IN ('synced', 'pending', 'failed')
         AND retry_count IS NOT NULL AND retry_count >= 0) NOT VALID,
ADD CONSTRAINT user_earnings_one_rate CHECK (earning_rate = base_earning_rate) NOT VALID;
