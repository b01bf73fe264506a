// A live app's database upgraded in place (issue 11, part 1): the app's own user_earnings (the
// seed's UserEarnings columns that the seed's ALTER TABLE does not add; SERIAL id, no UNIQUE on
// user_id, NULLs) with thousands of generated rows goes through every migration; every value the
// app had is kept, the opening balances account for every balance, and legacy users then sync
// through the real server at the rate the app gave them, credited rather than reviewed.
import assert from 'node:assert/strict';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { test } from 'node:test';

import { migrate, readMigrations } from '../../server/migrate.js';
import {
  HOUR_MS,
  LEGACY_TABLE,
  accrualOp,
  call,
  dev,
  formatUnits,
  insertLegacyRows,
  ledger,
  manualClock,
  openTestDatabase,
  readmeSql,
  startTestServer,
  units,
} from './helpers.js';
import { seeded } from './load.js';

const ROWS = 3000;
const MAX_AMOUNT = 999999999999999999n; // 9999999999.99999999 in units, NUMERIC(18,8)'s largest
const OFFLINE_CAP_MS = 8 * HOUR_MS;
const TOLERANCE_MS = 60_000;

const ms = (column) => `(EXTRACT(EPOCH FROM ${column}) * 1000)::bigint::text AS ${column}`;

function generateRows(count, nowMs, seed) {
  const next = seeded(seed);
  const pick = (list) => list[Math.floor(next() * list.length)];
  const units64 = (max) => BigInt(Math.floor(next() * 2 ** 30)) * BigInt(Math.floor(next() * 2 ** 30)) % (max + 1n);
  const money = () =>
    formatUnits(pick([() => 0n, () => MAX_AMOUNT, () => MAX_AMOUNT - 1n, () => units64(10n ** 12n), () => units64(MAX_AMOUNT)])());
  const maybe = (value, nullShare = 0.1) => (next() < nullShare ? null : value);
  const past = (spanMs) => nowMs - 1000 - Math.floor(next() * spanMs);
  const rows = [];
  const used = new Set();
  while (rows.length < count) {
    // Telegram ids: small ones, ones past 32 bits, and up to 2^52.
    const userId = pick([() => 1 + Math.floor(next() * 1e6), () => 2 ** 32 + Math.floor(next() * 1e9), () => Math.floor(next() * 2 ** 52) + 1])();
    if (used.has(userId)) continue;
    used.add(userId);
    rows.push({
      user_id: userId,
      current_earnings: maybe(money()),
      earning_rate: maybe(pick(['0.00000000', '0.00000001', '1.00000000', '0.75000000', formatUnits(units64(100n * 10n ** 8n))])),
      // Mostly in the past (up to 30 days); some NULL; a few ahead of the clock (a skewed app host).
      last_update: next() < 0.03 ? nowMs + HOUR_MS : maybe(past(30 * 24 * HOUR_MS)),
      created_at: maybe(past(365 * 24 * HOUR_MS)),
      updated_at: maybe(past(30 * 24 * HOUR_MS)),
      total_earned: maybe(money()),
    });
  }
  return rows;
}

async function readUpgraded(db) {
  return db.query(
    `SELECT id::text AS id, user_id::text AS user_id, current_earnings::text AS current_earnings,
       earning_rate::text AS earning_rate, base_earning_rate::text AS base_earning_rate,
       total_earned::text AS total_earned, pending_review::text AS pending_review,
       budget_anchor::text AS budget_anchor, sync_status, retry_count, last_sync_attempt,
       ${ms('last_update')}, ${ms('created_at')}, ${ms('updated_at')}, ${ms('start_date')}
     FROM user_earnings ORDER BY user_earnings.id`,
  );
}

const text = (value) => (value === null ? null : String(value));
const orZero = (value) => value ?? '0.00000000';

test('a live app table with thousands of legacy rows upgrades with every value kept, then its users sync at their own rate', async () => {
  const database = await openTestDatabase({ migrated: false });
  const { db } = database;
  try {
    await db.exec(LEGACY_TABLE);
    const nowMs = Math.floor(Date.now() / 1000) * 1000;
    const legacy = generateRows(ROWS, nowMs, 11);
    await insertLegacyRows(db, legacy);

    const upgradeFrom = Date.now();
    const applied = [];
    // Small batches, so the backfill runs as many transactions as it would on a big table.
    await migrate(db, { batchRows: 700, onApplied: (step) => applied.push(step) });
    const upgradeTo = Date.now();
    assert.equal(applied.find((s) => s.name === '011_legacy_rows_backfill.sql').batches, Math.ceil(ROWS / 700) + 1);
    const within = (valueMs) => Number(valueMs) >= upgradeFrom - 1 && Number(valueMs) <= upgradeTo + 1;

    const rows = await readUpgraded(db);
    assert.equal(rows.length, ROWS);
    rows.forEach((row, i) => {
      const before = legacy[i];
      const where = `row ${row.id} (user ${before.user_id})`;
      assert.equal(row.id, String(i + 1), where);
      assert.equal(row.user_id, String(before.user_id), where);
      // Kept, with the NULL money the fix does not allow read as 0 (migration 006).
      assert.equal(row.current_earnings, orZero(before.current_earnings), where);
      assert.equal(row.total_earned, orZero(before.total_earned), where);
      assert.equal(row.earning_rate, orZero(before.earning_rate), where);
      assert.equal(row.created_at, text(before.created_at), where);
      assert.equal(row.updated_at, text(before.updated_at), where);
      // The rate the app gave is the rate the server credits at.
      assert.equal(row.base_earning_rate, row.earning_rate, where);
      assert.equal(row.pending_review, '0.00000000', where);
      assert.deepEqual([row.sync_status, row.retry_count, row.last_sync_attempt], ['synced', 0, null], where);
      if (before.last_update === null) {
        assert.ok(within(row.last_update), `${where}: a missing last_update is the upgrade's time`);
        assert.equal(row.budget_anchor, row.last_update, where);
      } else {
        assert.equal(row.last_update, text(before.last_update), where);
        if (before.last_update > upgradeTo) assert.ok(within(row.budget_anchor), `${where}: a future anchor is clamped`);
        else assert.equal(row.budget_anchor, text(before.last_update), `${where}: the budget starts where the app settled`);
      }
      if (before.created_at === null) assert.ok(within(row.start_date), where);
      else assert.equal(row.start_date, text(before.created_at), where);
    });

    // Opening balances: one audit record per user with money, and the audit log accounts for
    // every total (conservation from the upgrade on).
    const opening = await db.query(
      `SELECT user_id::text AS user_id, old_value::text AS old_value, new_value::text AS new_value
       FROM earnings_audit_log WHERE operation_type = 'opening_balance' ORDER BY id`,
    );
    const withMoney = legacy.filter((r) => r.total_earned !== null && units(r.total_earned) > 0n);
    assert.equal(opening.length, withMoney.length);
    const openingOf = new Map(opening.map((a) => [a.user_id, a]));
    for (const r of withMoney) {
      assert.deepEqual(openingOf.get(String(r.user_id)), { user_id: String(r.user_id), old_value: '0.00000000', new_value: r.total_earned });
    }
    const [sums] = await db.query(
      `SELECT (SELECT SUM(total_earned)::text FROM user_earnings) AS totals,
         (SELECT SUM(new_value - old_value)::text FROM earnings_audit_log WHERE operation_type = 'opening_balance') AS audited`,
    );
    assert.equal(sums.totals, sums.audited);

    // The legacy users sync through the real server, its clock after the upgrade.
    const clock = manualClock(Math.ceil(upgradeTo / 1000) * 1000 + 1000);
    const server = await startTestServer(db, { clock, config: { offlineCapMs: OFFLINE_CAP_MS, toleranceMs: TOLERANCE_MS } });
    try {
      // Users with a rate and room below the largest amount for what they mine here.
      const roomy = (amount) => units(orZero(amount)) < MAX_AMOUNT - 10n ** 12n;
      const rated = (r) => r.earning_rate !== null && units(r.earning_rate) >= 100n && roomy(r.total_earned) && roomy(r.current_earnings);
      const settled = legacy.filter((r) => rated(r) && r.last_update !== null && r.last_update < nowMs).slice(0, 5);
      const old = legacy.filter((r) => rated(r) && !settled.includes(r) && r.last_update !== null && nowMs - r.last_update > 2 * OFFLINE_CAP_MS).slice(0, 5);
      const unrated = legacy.filter((r) => r.earning_rate === null || r.earning_rate === '0.00000000').slice(0, 3);
      assert.ok(settled.length === 5 && old.length === 5 && unrated.length === 3, 'the generated rows cover every case');

      const owed = (rate, spanMs) => formatUnits((units(rate) * BigInt(spanMs)) / BigInt(HOUR_MS));
      const sendMined = async (r, clientId, fromMs, toMs) => {
        const rate = orZero(r.earning_rate);
        const amount = owed(rate, toMs - fromMs);
        const answer = await call(server.url, '/v1/sync', {
          method: 'POST',
          auth: dev(r.user_id),
          body: { clientId, ops: [accrualOp(clientId, 1, amount, { from: fromMs, to: toMs, rate })] },
        });
        assert.equal(answer.status, 200, answer.text);
        return { answer: answer.json, amount };
      };

      // An honest client opened after the upgrade and mined for 10 minutes: all of it credited.
      for (const r of [...settled, ...old]) {
        const opened = await call(server.url, '/v1/state?clientId=app', { auth: dev(r.user_id) });
        assert.equal(opened.status, 200, opened.text);
        assert.deepEqual(
          [opened.json.state.totalEarned, opened.json.state.baseEarningRate, opened.json.state.lastSeq],
          [orZero(r.total_earned), r.earning_rate, 0],
        );
        const openedAt = clock.now();
        clock.advance(10 * 60_000);
        const { answer, amount } = await sendMined(r, 'app', openedAt, clock.now());
        assert.deepEqual(answer.results.map((x) => [x.status, x.credited, x.review]), [['applied', amount, '0.00000000']], `user ${r.user_id}`);
        assert.equal(answer.state.totalEarned, formatUnits(units(orZero(r.total_earned)) + units(amount)));
      }

      // A user idle since long before the upgrade may claim at most the offline cap (plus
      // tolerance) of unsettled time, like any user back from a long offline spell.
      const [idle] = old;
      clock.advance(12 * HOUR_MS);
      const claimedFrom = clock.now() - 9 * HOUR_MS;
      const { answer: capped, amount: claimed } = await sendMined({ ...idle, user_id: idle.user_id }, 'second', claimedFrom, clock.now());
      const cap = owed(idle.earning_rate, OFFLINE_CAP_MS + TOLERANCE_MS);
      assert.deepEqual(capped.results.map((x) => [x.status, x.credited, x.review]), [
        ['applied', cap, formatUnits(units(claimed) - units(cap))],
      ]);

      // The app gave these users no rate: what they send is queued for review, not lost.
      for (const r of unrated) {
        const { answer, amount } = await sendMined({ ...r, earning_rate: '0.50000000' }, 'app', clock.now() - 60_000, clock.now());
        assert.deepEqual(answer.results.map((x) => [x.status, x.review]), [['review', amount]]);
        assert.equal(answer.state.pendingReview, amount);
      }

      for (const r of [...settled, ...old, ...unrated]) {
        const money = await ledger(db, r.user_id);
        assert.equal(money.total_earned, money.audit_credits, `user ${r.user_id}: total_earned == audit log credits`);
        assert.equal(money.pending_review, money.pending_reviews);
      }

      // The app's backend, which knows only its own columns, keeps writing after the upgrade: a
      // user it inserts gets the rate it gave for both names and a budget from its creation, and
      // a rate it (or an operator) changes under either name is the one rate.
      const rates = async (userId) =>
        (await db.query('SELECT earning_rate::text AS e, base_earning_rate::text AS b FROM user_earnings WHERE user_id = $1', [userId]))[0];
      const newcomer = { user_id: 2 ** 40 + 17, earning_rate: '3.00000000', total_earned: '0.00000000' };
      await db.query(
        `INSERT INTO user_earnings (user_id, current_earnings, earning_rate, total_earned) VALUES ($1, 0, $2, 0)`,
        [newcomer.user_id, newcomer.earning_rate],
      );
      assert.deepEqual(await rates(newcomer.user_id), { e: '3.00000000', b: '3.00000000' });
      clock.advance(10 * 60_000);
      const { answer: inserted, amount: mined } = await sendMined(newcomer, 'app', clock.now() - 10 * 60_000, clock.now());
      assert.deepEqual(inserted.results.map((x) => [x.status, x.credited]), [['applied', mined]]);

      const [changed] = settled;
      await db.query(`UPDATE user_earnings SET earning_rate = '0.50000000' WHERE user_id = $1`, [changed.user_id]);
      assert.deepEqual(await rates(changed.user_id), { e: '0.50000000', b: '0.50000000' });
      await db.query(`UPDATE user_earnings SET base_earning_rate = '0.25000000' WHERE user_id = $1`, [changed.user_id]);
      assert.deepEqual(await rates(changed.user_id), { e: '0.25000000', b: '0.25000000' });
      await db.query(`UPDATE user_earnings SET earning_rate = '9.00000000', base_earning_rate = '2.00000000' WHERE user_id = $1`, [changed.user_id]);
      assert.deepEqual(await rates(changed.user_id), { e: '2.00000000', b: '2.00000000' }, 'base_earning_rate wins when both are written');
      const reopened = await call(server.url, '/v1/state?clientId=app', { auth: dev(changed.user_id) });
      assert.equal(reopened.json.state.baseEarningRate, '2.00000000');

      // The app changed balances after 007 took them (up, down, from nothing): the README's
      // top-up records exactly those as opening balances and conservation holds again.
      const [up, down] = old;
      const changedBalances = [up, down, newcomer];
      await db.query(`UPDATE user_earnings SET total_earned = total_earned + 5 WHERE user_id = $1`, [up.user_id]);
      await db.query(`UPDATE user_earnings SET total_earned = total_earned / 2 WHERE user_id = $1`, [down.user_id]);
      await db.query(`UPDATE user_earnings SET total_earned = total_earned + '0.00000001' WHERE user_id = $1`, [newcomer.user_id]);
      const unbalanced = async () =>
        (await Promise.all([...settled, ...old, ...unrated, newcomer].map(async (r) => [r.user_id, await ledger(db, r.user_id)])))
          .filter(([, money]) => money.total_earned !== money.audit_credits)
          .map(([userId]) => userId);
      assert.deepEqual(await unbalanced(), changedBalances.map((r) => r.user_id));
      const [{ n: auditedBefore }] = await db.query('SELECT COUNT(*)::int AS n FROM earnings_audit_log');
      await db.query(readmeSql('Balances the old app changed after the upgrade'));
      assert.deepEqual(await unbalanced(), []);
      const [{ n: auditedAfter }] = await db.query('SELECT COUNT(*)::int AS n FROM earnings_audit_log');
      assert.equal(auditedAfter - auditedBefore, changedBalances.length, 'one record per changed balance, none for the rest');
    } finally {
      await server.close();
    }
  } finally {
    await database.drop();
  }
});

// A folder holding the project's migrations up to and including `last`.
function migrationsThrough(last) {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'earnings-migrations-'));
  for (const { name, sql } of readMigrations()) if (name <= last) fs.writeFileSync(path.join(dir, name), sql);
  return dir;
}

// Everything an upgrade could change: the rows, the table's columns, indexes, constraints and
// triggers, and what is recorded as applied.
async function fingerprint(db) {
  const [row] = await db.query(
    `SELECT
       (SELECT md5(string_agg(row_to_json(u)::text, ',' ORDER BY u.id)) FROM user_earnings u) AS rows,
       (SELECT string_agg(column_name || ' ' || data_type || ' ' || is_nullable || ' ' || COALESCE(column_default, ''), ', ' ORDER BY column_name)
          FROM information_schema.columns WHERE table_name = 'user_earnings') AS columns,
       (SELECT string_agg(indexdef, ', ' ORDER BY indexname) FROM pg_indexes WHERE tablename = 'user_earnings') AS indexes,
       (SELECT string_agg(conname || ' ' || pg_get_constraintdef(oid), ', ' ORDER BY conname)
          FROM pg_constraint WHERE conrelid = 'user_earnings'::regclass) AS constraints,
       (SELECT string_agg(tgname, ', ' ORDER BY tgname) FROM pg_trigger
          WHERE tgrelid = 'user_earnings'::regclass AND NOT tgisinternal) AS triggers,
       (SELECT string_agg(name, ', ' ORDER BY name) FROM schema_migrations) AS applied`,
  );
  return row;
}

test('a migration that fails half-way leaves the database as it was and the server refuses to start, saying why', async () => {
  const database = await openTestDatabase({ migrated: false });
  const { db } = database;
  try {
    await db.exec(LEGACY_TABLE);
    const nowMs = Math.floor(Date.now() / 1000) * 1000;
    const rows = generateRows(50, nowMs, 12);
    // The app's table let one user get two rows: no rule could merge them for the operator.
    await insertLegacyRows(db, [...rows, { ...rows[7], total_earned: '1.00000000' }, { ...rows[20] }]);
    await migrate(db, { dir: migrationsThrough('008_row_revision.sql') });
    const before = await fingerprint(db);

    const failure = await startTestServer(db).then(
      (server) => server.close().then(() => assert.fail('the server started on a half-upgraded database')),
      (error) => error,
    );
    assert.equal(failure.code, 'MIGRATION_FAILED');
    assert.equal(failure.migration, '009_user_id_unique.sql');
    assert.equal(failure.sqlState, '23505');
    assert.match(failure.message, /009_user_id_unique\.sql failed: user_earnings holds 2 user id\(s\) on more than one row \(e\.g\. \d+, \d+\)/);
    assert.match(failure.message, /rolled back, nothing of it applied/);
    assert.deepEqual(await fingerprint(db), before);

    // Merged by the operator, the next start goes on from there.
    await db.query(
      `DELETE FROM user_earnings u WHERE EXISTS (SELECT 1 FROM user_earnings o WHERE o.user_id = u.user_id AND o.id < u.id)`,
    );
    const server = await startTestServer(db);
    try {
      const answer = await call(server.url, '/v1/state?clientId=app', { auth: dev(rows[7].user_id) });
      assert.equal(answer.status, 200, answer.text);
    } finally {
      await server.close();
    }
  } finally {
    await database.drop();
  }
});
