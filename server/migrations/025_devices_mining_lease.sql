-- One user, several devices (issue 12 part 7). The user row says which client id's credit last
-- moved the budget anchor (budget_spent_by), so time another device was already paid for is
-- refused with COUNTED_ON_ANOTHER_DEVICE instead of queued for review (src/credit.h), and who
-- holds the user's mining lease until when (server ms), so that one device mines at a time. Op
-- results keep the amount refused that way, so a resent op is answered what it got the first time.
-- Cost on a live database: catalog changes only (nullable columns without a default need no
-- rewrite, on the partitioned sync_op_results and its partitions alike).
ALTER TABLE user_earnings
  ADD COLUMN IF NOT EXISTS budget_spent_by VARCHAR(64),
  ADD COLUMN IF NOT EXISTS mining_lease_client VARCHAR(64),
  ADD COLUMN IF NOT EXISTS mining_lease_until BIGINT;
ALTER TABLE sync_op_results ADD COLUMN IF NOT EXISTS refused NUMERIC(18,8);
