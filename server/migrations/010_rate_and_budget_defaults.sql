-- One rate per user under two names (docs/DESIGN.md, "The rate of a user"): base_earning_rate is
-- the rate the server credits at; earning_rate, the column the app had before the fix, mirrors
-- it. Whoever writes a row keeps them equal: a writer that sets base_earning_rate (the server, an
-- operator) moves earning_rate, and one that knows only earning_rate (the app's backend before
-- the fix, still running while the upgrade runs) moves base_earning_rate. The trigger fires only
-- on inserts and on updates naming a rate, never on a sync's write.
CREATE OR REPLACE FUNCTION user_earnings_rates_in_step() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
  IF TG_OP = 'INSERT' THEN
    IF NEW.base_earning_rate = 0 AND NEW.earning_rate <> 0 THEN
      NEW.base_earning_rate := NEW.earning_rate;
    ELSE
      NEW.earning_rate := NEW.base_earning_rate;
    END IF;
  ELSIF NEW.base_earning_rate IS DISTINCT FROM OLD.base_earning_rate THEN
    NEW.earning_rate := NEW.base_earning_rate;
  ELSE
    NEW.base_earning_rate := NEW.earning_rate;
  END IF;
  RETURN NEW;
END
$$;

DROP TRIGGER IF EXISTS user_earnings_rates_in_step ON user_earnings;
CREATE TRIGGER user_earnings_rates_in_step BEFORE INSERT OR UPDATE OF earning_rate, base_earning_rate
ON user_earnings FOR EACH ROW EXECUTE FUNCTION user_earnings_rates_in_step();

-- A row the server did not create (the app's backend inserting a user while the upgrade runs)
-- starts its crediting budget when it is created, as the server's own first contact does.
ALTER TABLE user_earnings
ALTER COLUMN budget_anchor SET DEFAULT (EXTRACT(EPOCH FROM CURRENT_TIMESTAMP) * 1000)::bigint;
