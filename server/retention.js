// The retention job: keeps the audit log and the op results to a window of months. Run it on a
// schedule the operator chooses (`npm run retention`, e.g. daily from cron); nothing depends on
// when it runs, and running it twice does nothing the second time. Each run:
//   1. creates the month partitions from any month that has rows waiting in the DEFAULT
//      partition through `aheadMonths` ahead of now (rows are never refused for want of one);
//   2. drops every month that ended before now - keepDays, each in its own short transaction
//      that first adds what the month held to each user's earnings_checkpoints row
//      (migration 022), so total_earned = checkpoint + kept partitions, at every commit.
// A resend of an op whose answer was dropped is still a duplicate (sync_client_sequences.last_seq
// decides that, and is never dropped); it is answered `duplicate` crediting nothing, without the
// amounts it got the first time.
//
// Locks: creating a month takes a brief lock on the parent table (and on the DEFAULT partition
// while rows move out of it); dropping one holds its table's ACCESS EXCLUSIVE lock for a catalog
// change. Neither waits longer than LOCK_TIMEOUT behind a long transaction (which would queue every
// sync behind it): the step fails and the next run does it.
const RETENTION_LOCK_KEY = 7301184453;
const LOCK_TIMEOUT = '5s';
const DAY_MS = 86_400_000;

const toIso = (ms) => new Date(ms).toISOString();

export async function runRetention(db, { nowMs, keepDays, aheadMonths = 2 }) {
  if (!Number.isSafeInteger(keepDays) || keepDays < 1) throw new Error('runRetention: keepDays must be a whole number of days >= 1');
  const cutoff = toIso(nowMs - keepDays * DAY_MS);
  const through = new Date(nowMs);
  through.setUTCMonth(through.getUTCMonth() + aheadMonths);
  const created = await db.transaction(async (tx) => {
    await tx.query(`SELECT set_config('lock_timeout', '${LOCK_TIMEOUT}', true)`);
    await tx.query('SELECT pg_advisory_xact_lock($1)', [RETENTION_LOCK_KEY]);
    const [{ since }] = await tx.query(
      `SELECT LEAST((SELECT min(timestamp) FROM earnings_audit_log_default), (SELECT min(created_at) FROM sync_op_results_default),
         $1::timestamptz)::text AS since`,
      [toIso(nowMs)],
    );
    const [{ n }] = await tx.query('SELECT earnings_prepare_partitions($1::timestamptz, $2::timestamptz) AS n', [since, through.toISOString()]);
    return Number(n);
  });
  const expired = await db.query(
    `SELECT partition::text AS partition FROM earnings_partitions() WHERE upper IS NOT NULL AND upper <= $1::timestamptz ORDER BY upper`,
    [cutoff],
  );
  const dropped = [];
  for (const { partition } of expired) {
    const users = await db.transaction(async (tx) => {
      await tx.query(`SELECT set_config('lock_timeout', '${LOCK_TIMEOUT}', true)`);
      await tx.query('SELECT pg_advisory_xact_lock($1)', [RETENTION_LOCK_KEY]);
      // Another run may have dropped it meanwhile.
      const [still] = await tx.query('SELECT to_regclass($1) IS NOT NULL AS exists', [partition]);
      if (!still.exists) return null;
      const [{ users: n }] = await tx.query('SELECT earnings_drop_partition($1::regclass)::text AS users', [partition]);
      return Number(n);
    });
    if (users !== null) dropped.push({ partition, users });
  }
  return { created, dropped, cutoff };
}
