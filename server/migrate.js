// Ordered SQL migrations (server/migrations/NNN_name.sql), each applied once and recorded in
// schema_migrations with a checksum.
//
// Each migration runs in a transaction of its own, which also records it: a migration that fails
// half-way is rolled back whole, the ones before it stay applied, and the next start goes on from
// it. Not one transaction for all of them: on a live app's table the locks a migration takes
// (ALTER TABLE's ACCESS EXCLUSIVE above all) would then be held until the last migration ended, so
// the app would wait for the whole upgrade instead of for one short step (docs/PERFORMANCE.md,
// "Upgrade lock times"). Every transaction first takes the same advisory lock and re-reads what is
// recorded, so two servers starting at once apply each migration exactly once, in order.
//
// A migration is never edited once shipped, with one way out: SUPERSEDED below names, for a
// migration rewritten so that it no longer stalls a live app, the checksums of the texts it
// replaces. A database that applied an old text is accepted as it is (it has what the old text
// made), and the migrations added beside the rewrite bring both kinds of database to one schema
// (tests/server/migrations.test.js upgrades a database migrated with the old texts). A step added
// into a shipped sequence shares its predecessor's number and sorts after it by name (006's three
// steps); on a database that ran everything already it runs last and finds nothing to do.
//
// A migration whose first line is `-- migrate: batched` is a backfill: one statement that converts
// at most $2 rows whose key is above $1 (NULL: from the start) and returns one row with the highest
// key it converted (`last_key`, NULL when nothing was left). It runs as many committed batches, so
// no row lock is held for longer than one batch; every batch converts whole rows, and a backfill
// that stops half-way (the database went away) is not recorded, so the next start finishes it.
import crypto from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

import { ServerError } from './errors.js';

export const MIGRATIONS_DIR = path.join(path.dirname(fileURLToPath(import.meta.url)), 'migrations');

// Any fixed 64-bit key; it only has to differ from other advisory locks on the same database.
const MIGRATION_LOCK_KEY = 7301184452;

// Rows per backfill batch: a batch holds its rows' locks for a few milliseconds (measured by
// bench/migration-locks.js), short next to an app request's own budget.
export const BACKFILL_BATCH_ROWS = 2000;

const BATCHED = /^-- migrate: batched\n/;

// name -> { checksums: sha256 of each earlier text the current one replaces, why }.
export const SUPERSEDED = {
  '002_seed_sync_columns.sql': {
    checksums: ['b95e9c1cc8f99d02b56e0840bb01bb49b7d58343507a8319ed448bd58fabaad6'],
    why:
      "the seed's text verbatim also built its two indexes under the ALTER TABLE's ACCESS EXCLUSIVE " +
      '(reads and writes stalled 0.4-0.6 s per 100,000 rows); 023 drops both, so they are no longer built',
  },
  '006_budget_anchor.sql': {
    checksums: ['5d8178a3cabf86c1d32982f36f6dc9cbbeca4c1c614986125a62e628c69973b6'],
    why:
      'filled NULL money and proved NOT NULL and six CHECKs in one scan under ACCESS EXCLUSIVE (1.2-1.9 s per ' +
      '100,000 rows); now catalog changes only, the fill batched (006_money_backfill) and the proof a ' +
      'VALIDATE that lets the app work (006_money_checked, 006_money_not_null)',
  },
};

export function readMigrations(dir = MIGRATIONS_DIR) {
  return fs
    .readdirSync(dir)
    .filter((name) => /^\d{3}_[a-z0-9_]+\.sql$/.test(name))
    .sort()
    .map((name) => {
      const sql = fs.readFileSync(path.join(dir, name), 'utf8');
      return { name, sql, batched: BATCHED.test(sql), checksum: crypto.createHash('sha256').update(sql).digest('hex') };
    });
}

const RECORDS = `CREATE TABLE IF NOT EXISTS schema_migrations (
  name TEXT PRIMARY KEY,
  checksum TEXT NOT NULL,
  applied_at TIMESTAMP WITH TIME ZONE NOT NULL DEFAULT CURRENT_TIMESTAMP
)`;

// Lock waits: a migration's ALTER TABLE queued behind a long app transaction would queue every
// later app statement behind itself, so it gives up after `lockWaitMs`, lets the app's queued
// statements run for as long, and tries again, up to `lockAttempts` times. A statement may run
// as long as it needs (the pool's statement_timeout is for requests).
export const LOCK_WAIT_MS = 500;
export const LOCK_ATTEMPTS = 20;
const LOCK_NOT_AVAILABLE = '55P03';

// Opens a migration's transaction: the advisory lock, the schema_migrations table, then whether
// `migration` is recorded (an edited one is refused: databases claiming the same schema would
// differ; a text it SUPERSEDED is accepted, and stays recorded as the text that ran).
async function lockAndCheck(tx, migration, settings) {
  await tx.query('SELECT pg_advisory_xact_lock($1)', [MIGRATION_LOCK_KEY]);
  await tx.exec(`${RECORDS}; SET LOCAL lock_timeout = ${Number(settings.lockWaitMs)}; SET LOCAL statement_timeout = 0`);
  const rows = await tx.query('SELECT checksum FROM schema_migrations WHERE name = $1', [migration.name]);
  if (rows.length === 0) return false;
  if (rows[0].checksum !== migration.checksum && !SUPERSEDED[migration.name]?.checksums.includes(rows[0].checksum)) {
    throw new ServerError(
      'MIGRATION_CHANGED',
      `migration ${migration.name} was changed after it was applied; add a new migration instead`,
      500,
    );
  }
  return true;
}

const record = (tx, migration) =>
  tx.query('INSERT INTO schema_migrations (name, checksum) VALUES ($1, $2)', [migration.name, migration.checksum]);

async function withLockRetries(migration, settings, work) {
  for (let attempt = 1; ; attempt += 1) {
    try {
      return await work();
    } catch (error) {
      if (error?.code !== LOCK_NOT_AVAILABLE || attempt >= settings.lockAttempts) throw error;
      await settings.onLockWait?.({ name: migration.name, attempt, message: error.message });
      await new Promise((resolve) => setTimeout(resolve, settings.lockWaitMs));
    }
  }
}

// Applies `migration` unless recorded. `progress.batches` counts the transactions it committed;
// `progress.recorded` says whether this call recorded it (another migrator may have).
async function apply(db, migration, settings, progress) {
  if (!migration.batched) {
    await withLockRetries(migration, settings, () =>
      db.transaction(async (tx) => {
        if (await lockAndCheck(tx, migration, settings)) return;
        await tx.exec(migration.sql);
        await record(tx, migration);
        progress.batches = 1;
        progress.recorded = true;
      }),
    );
    return;
  }
  let after = null;
  for (;;) {
    const step = await withLockRetries(migration, settings, () =>
      db.transaction(async (tx) => {
        if (await lockAndCheck(tx, migration, settings)) return { recorded: true };
        const [row] = await tx.query(migration.sql, [after, settings.batchRows]);
        const lastKey = row?.last_key ?? null;
        if (lastKey === null) await record(tx, migration);
        return { recorded: false, lastKey };
      }),
    );
    if (step.recorded) return;
    progress.batches += 1;
    if (step.lastKey === null) {
      progress.recorded = true;
      return;
    }
    after = String(step.lastKey);
  }
}

// Returns the names of the migrations applied by this call (empty when the schema was current).
// `onApplied({ name, ms, batches })` hears of each one as it is recorded, `onLockWait({ name,
// attempt, message })` of each time one gave up waiting for a table lock and will try again.
export async function migrate(
  db,
  {
    dir = MIGRATIONS_DIR,
    batchRows = BACKFILL_BATCH_ROWS,
    lockWaitMs = LOCK_WAIT_MS,
    lockAttempts = LOCK_ATTEMPTS,
    onApplied = null,
    onLockWait = null,
  } = {},
) {
  const settings = { batchRows, lockWaitMs, lockAttempts, onLockWait };
  const migrations = readMigrations(dir);
  const done = [];
  for (const migration of migrations) {
    const started = performance.now();
    const progress = { batches: 0, recorded: false };
    try {
      await apply(db, migration, settings, progress);
    } catch (error) {
      if (error instanceof ServerError) throw error;
      throw migrationFailed(migration, error, done, progress);
    }
    if (!progress.recorded) continue;
    done.push(migration.name);
    onApplied?.({ name: migration.name, ms: performance.now() - started, batches: progress.batches });
  }
  return done;
}

// migrate's hooks for a pino logger: each migration as it is applied (a long backfill shows its
// progress), and each time one waits for a lock the app holds.
export function migrationLog(logger) {
  return {
    onApplied: (step) => logger.info(step, 'migration applied'),
    onLockWait: (wait) => logger.warn(wait, 'migration gave up waiting for a table lock (the app holds it); trying again'),
  };
}

// The server refuses to start with this: which migration, the database's own error, and what
// became of the migration (a plain one rolled back whole; a backfill keeps its whole batches).
function migrationFailed(migration, error, done, progress) {
  const sqlState = typeof error?.code === 'string' ? ` (SQLSTATE ${error.code})` : '';
  const hint = typeof error?.hint === 'string' ? `; hint: ${error.hint}` : '';
  const undone = migration.batched
    ? `stopped after ${progress.batches} whole batch(es) and is not recorded`
    : 'was rolled back, nothing of it applied';
  const kept = done.length > 0 ? `; the ${done.length} migration(s) applied before it stay applied` : '';
  const failure = new ServerError(
    'MIGRATION_FAILED',
    `migration ${migration.name} failed: ${error?.message ?? error}${sqlState}${hint}. It ${undone}${kept}. ` +
      `Fix the cause and start again: migrations go on from ${migration.name}`,
    500,
  );
  failure.migration = migration.name;
  failure.sqlState = error?.code ?? null;
  failure.cause = error;
  return failure;
}
