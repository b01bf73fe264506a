// Migrations: applied once each, in order, recorded with checksums; the seed's schema change
// verbatim; an old database (the app's table before the fix, with NULL money) upgrades; two
// servers migrating at once apply each migration once; CHECK constraints refuse negative money.
import assert from 'node:assert/strict';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { test } from 'node:test';

import pg from 'pg';

import { MIGRATIONS_DIR, migrate, readMigrations } from '../../server/migrate.js';
import { databaseFixture, onRealPostgres, openTestDatabase } from './helpers.js';

const SEED_DOCUMENT = '/work/shared/seed/000_ef0c393aa953cf84.txt';

const fixture = databaseFixture({ migrated: false });

test('an old database upgrades, and two concurrent migrations apply each step exactly once', async () => {
  const { db } = fixture.database;
  const onlyBase = fs.mkdtempSync(path.join(os.tmpdir(), 'earnings-migrations-'));
  fs.copyFileSync(path.join(MIGRATIONS_DIR, '001_user_earnings.sql'), path.join(onlyBase, '001_user_earnings.sql'));
  assert.deepEqual(await migrate(db, { dir: onlyBase }), ['001_user_earnings.sql']);
  fs.rmSync(onlyBase, { recursive: true });
  await db.query(
    `INSERT INTO user_earnings (user_id, current_earnings, earning_rate, total_earned)
     VALUES (77, NULL, '0.5', NULL), (79, '12.5', '0.5', '12.50000000')`,
  );

  const [first, second] = await Promise.all([migrate(db), migrate(db)]);
  const all = readMigrations().map((m) => m.name);
  // Each migration is its own transaction: the two migrators may share the work, never repeat it.
  assert.deepEqual([...first, ...second].sort(), all.slice(1));

  const [legacy] = await db.query(
    `SELECT total_earned::text AS total, current_earnings::text AS current, pending_review::text AS review,
       sync_status, retry_count FROM user_earnings WHERE user_id = 77`,
  );
  assert.deepEqual(legacy, { total: '0.00000000', current: '0.00000000', review: '0.00000000', sync_status: 'synced', retry_count: 0 });
  const opening = await db.query(
    `SELECT user_id::text AS user_id, old_value::text AS old_value, new_value::text AS new_value
     FROM earnings_audit_log WHERE operation_type = 'opening_balance'`,
  );
  assert.deepEqual(opening, [{ user_id: '79', old_value: '0.00000000', new_value: '12.50000000' }]);
  const recorded = await db.query('SELECT name FROM schema_migrations ORDER BY name');
  assert.deepEqual(recorded.map((r) => r.name), all);
  assert.deepEqual(await migrate(db), []);
});

test('the seed schema change is applied verbatim', (t) => {
  if (!fs.existsSync(SEED_DOCUMENT)) {
    t.skip('seed document not on this machine');
    return;
  }
  const seed = fs.readFileSync(SEED_DOCUMENT, 'utf8');
  const block = /### Database Schema Updates\s+```sql\n([\s\S]*?)```/.exec(seed)[1];
  const migration = fs.readFileSync(path.join(MIGRATIONS_DIR, '002_seed_sync_columns.sql'), 'utf8');
  assert.equal(migration, block);
});

// 002 creates the seed's two indexes (verbatim, above); 023 drops one and narrows the other, so
// that a sync's update of its row changes no indexed column and stays heap-only (bench/storage.js).
test('the seed indexes are created by 002 and replaced by 023', async () => {
  const seed = fs.readFileSync(path.join(MIGRATIONS_DIR, '002_seed_sync_columns.sql'), 'utf8');
  assert.match(seed, /CREATE INDEX IF NOT EXISTS idx_user_earnings_user_sync/);
  assert.match(seed, /CREATE INDEX IF NOT EXISTS idx_user_earnings_retry/);
  const rows = await fixture.database.db.query(`SELECT indexname FROM pg_indexes WHERE tablename = 'user_earnings' ORDER BY indexname`);
  assert.deepEqual(rows.map((r) => r.indexname), ['idx_user_earnings_failing', 'user_earnings_pkey', 'user_earnings_user_id_key']);
});

test('a migration edited after it ran stops the server instead of diverging', async () => {
  const { db } = fixture.database;
  await db.query(`UPDATE schema_migrations SET checksum = 'edited' WHERE name = '003_earnings_audit_log.sql'`);
  await assert.rejects(migrate(db), (error) => error.code === 'MIGRATION_CHANGED');
  const [{ checksum }] = [readMigrations().find((m) => m.name === '003_earnings_audit_log.sql')];
  await db.query(`UPDATE schema_migrations SET checksum = $1 WHERE name = '003_earnings_audit_log.sql'`, [checksum]);
  assert.deepEqual(await migrate(db), []);
});

test('CHECK constraints refuse negative money and a failing migration transaction leaves nothing', async () => {
  const { db } = fixture.database;
  for (const column of ['total_earned', 'current_earnings', 'pending_review', 'base_earning_rate']) {
    await assert.rejects(
      db.query(`INSERT INTO user_earnings (user_id, ${column}) VALUES (78, -0.00000001)`),
      (error) => error.code === '23514',
      column,
    );
  }
  await assert.rejects(
    db.query(`INSERT INTO earnings_review_queue (user_id, client_id, op_id, seq, amount, reason) VALUES (1, 'c', 'c:1', 1, 0, 'x')`),
    (error) => error.code === '23514',
  );
  const [{ n }] = await db.query('SELECT COUNT(*)::int AS n FROM user_earnings WHERE user_id = 78');
  assert.equal(n, 0);
});

test('a migration failing half-way is rolled back whole; a backfill failing half-way keeps whole batches and the next start finishes it', async () => {
  const database = await openTestDatabase({ migrated: false });
  const { db } = database;
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'earnings-migrations-'));
  const write = (name, sql) => fs.writeFileSync(path.join(dir, name), sql);
  try {
    fs.copyFileSync(path.join(MIGRATIONS_DIR, '001_user_earnings.sql'), path.join(dir, '001_user_earnings.sql'));
    assert.deepEqual(await migrate(db, { dir }), ['001_user_earnings.sql']);
    write(
      '002_half_way.sql',
      `ALTER TABLE user_earnings ADD COLUMN half_way INTEGER;
       CREATE TABLE half_way (id INTEGER);
       UPDATE user_earnings SET current_earnings = current_earnings + 1;
       SELECT 1 / 0;`,
    );
    await db.query(
      `INSERT INTO user_earnings (user_id, current_earnings, total_earned)
       SELECT n, n, 0 FROM generate_series(1, 5) AS n`,
    );
    const rowsNow = () => db.query('SELECT user_id::text AS user_id, current_earnings::text AS c, total_earned::text AS t FROM user_earnings ORDER BY user_id');
    const before = await rowsNow();

    const failure = await migrate(db, { dir }).then(() => assert.fail('migrated'), (error) => error);
    assert.equal(failure.code, 'MIGRATION_FAILED');
    assert.equal(failure.migration, '002_half_way.sql');
    assert.equal(failure.sqlState, '22012');
    assert.match(failure.message, /002_half_way\.sql failed: division by zero \(SQLSTATE 22012\)\. It was rolled back, nothing of it applied\./);
    assert.deepEqual(await rowsNow(), before);
    const [leftovers] = await db.query(
      `SELECT to_regclass('half_way') AS half_table,
         (SELECT COUNT(*)::int FROM information_schema.columns WHERE table_name = 'user_earnings' AND column_name = 'half_way') AS half_column,
         (SELECT string_agg(name, ',') FROM schema_migrations) AS applied`,
    );
    assert.deepEqual(leftovers, { half_table: null, half_column: 0, applied: '001_user_earnings.sql' });

    // A backfill (idempotent, as every backfill must be) whose second batch fails: the first
    // batch's rows are whole and converted, the rest untouched, nothing recorded.
    fs.rmSync(path.join(dir, '002_half_way.sql'));
    await db.exec('CREATE TABLE backfill_fuse (batches_left INTEGER NOT NULL); INSERT INTO backfill_fuse VALUES (2)');
    write(
      '002_backfill.sql',
      `-- migrate: batched
       WITH batch AS (
         SELECT id FROM user_earnings WHERE $1::bigint IS NULL OR id > $1::bigint ORDER BY id LIMIT $2
       ), fuse AS (
         UPDATE backfill_fuse SET batches_left = batches_left - 1 RETURNING 1 / batches_left AS burning
       ), converted AS (
         UPDATE user_earnings u SET total_earned = u.current_earnings FROM batch WHERE u.id = batch.id
       )
       SELECT max(id)::text AS last_key FROM batch, fuse`,
    );
    const stopped = await migrate(db, { dir, batchRows: 2 }).then(() => assert.fail('migrated'), (error) => error);
    assert.equal(stopped.migration, '002_backfill.sql');
    assert.match(stopped.message, /It stopped after 1 whole batch\(es\) and is not recorded\./);
    assert.deepEqual((await rowsNow()).map((r) => r.t), [before[0].c, before[1].c, '0.00000000', '0.00000000', '0.00000000']);
    assert.deepEqual((await db.query('SELECT name FROM schema_migrations')).map((r) => r.name), ['001_user_earnings.sql']);

    await db.exec('UPDATE backfill_fuse SET batches_left = 100');
    assert.deepEqual(await migrate(db, { dir, batchRows: 2 }), ['002_backfill.sql']);
    assert.deepEqual((await rowsNow()).map((r) => r.t), before.map((r) => r.c));
  } finally {
    fs.rmSync(dir, { recursive: true });
    await database.drop();
  }
});

test('a migration waiting for a table lock the app holds gives up, lets the app run, and tries again; past its tries the server refuses to start', async (t) => {
  if (!onRealPostgres) {
    t.skip('PGlite is one connection: nothing else can hold a lock');
    return;
  }
  const database = await openTestDatabase({ migrated: false });
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'earnings-migrations-'));
  const app = new pg.Client({ connectionString: database.url });
  try {
    fs.copyFileSync(path.join(MIGRATIONS_DIR, '001_user_earnings.sql'), path.join(dir, '001_user_earnings.sql'));
    await migrate(database.db, { dir });
    fs.writeFileSync(path.join(dir, '002_needs_lock.sql'), 'ALTER TABLE user_earnings ADD COLUMN needs_lock INTEGER;');
    await app.connect();
    // The app in the middle of a transaction that read the table: ALTER TABLE must wait for it.
    await app.query('BEGIN');
    await app.query('SELECT COUNT(*) FROM user_earnings');

    const waits = [];
    const failure = await migrate(database.db, { dir, lockWaitMs: 50, lockAttempts: 3, onLockWait: (wait) => waits.push(wait) }).then(
      () => assert.fail('migrated under a held lock'),
      (error) => error,
    );
    assert.equal(failure.code, 'MIGRATION_FAILED');
    assert.equal(failure.migration, '002_needs_lock.sql');
    assert.equal(failure.sqlState, '55P03');
    assert.deepEqual(waits.map((w) => [w.name, w.attempt]), [['002_needs_lock.sql', 1], ['002_needs_lock.sql', 2]]);
    // Meanwhile the app's own statements went on.
    assert.equal((await app.query('SELECT COUNT(*)::int AS n FROM user_earnings')).rows[0].n, 0);

    const retried = [];
    const applied = await migrate(database.db, {
      dir,
      lockWaitMs: 50,
      lockAttempts: 3,
      onLockWait: async (wait) => {
        retried.push(wait.attempt);
        await app.query('COMMIT');
      },
    });
    assert.deepEqual(applied, ['002_needs_lock.sql']);
    assert.deepEqual(retried, [1]);
  } finally {
    await app.end().catch(() => {});
    fs.rmSync(dir, { recursive: true });
    await database.drop();
  }
});
