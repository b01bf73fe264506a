// Migrations: applied once each, in order, recorded with checksums; the seed's schema change
// verbatim; an old database (the app's table before the fix, with NULL money) upgrades; two
// servers migrating at once apply each migration once; CHECK constraints refuse negative money.
import assert from 'node:assert/strict';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { test } from 'node:test';

import { MIGRATIONS_DIR, migrate, readMigrations } from '../../server/migrate.js';
import { databaseFixture } from './helpers.js';

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
  assert.deepEqual([...first, ...second].sort(), all.slice(1));
  assert.ok(first.length === 0 || second.length === 0, 'one migrator did all the work');

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

test('the seed indexes exist', async () => {
  const rows = await fixture.database.db.query(
    `SELECT indexname FROM pg_indexes WHERE tablename = 'user_earnings' ORDER BY indexname`,
  );
  const names = rows.map((r) => r.indexname);
  assert.ok(names.includes('idx_user_earnings_user_sync'));
  assert.ok(names.includes('idx_user_earnings_retry'));
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
