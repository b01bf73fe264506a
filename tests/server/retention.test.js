// A year of data (issue 13, part 3): the audit log and the op results are partitioned by month,
// the retention job drops old months into each user's checkpoint, and nothing about money
// changes: total_earned = checkpoint + what the kept partitions hold, for every user, after
// every run; a resend older than retention is still a duplicate and credits nothing. Also: a
// database of the previous version, holding audit rows, op results and review items, upgrades
// with its rows in place.
import assert from 'node:assert/strict';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { describe, test } from 'node:test';

import { MIGRATIONS_DIR, migrate } from '../../server/migrate.js';
import { runRetention } from '../../server/retention.js';
import { HOUR_MS, START_MS, accrualOp, ledger, openTestDatabase, serverFixture, units } from './helpers.js';

const DAY_MS = 24 * HOUR_MS;
const KEEP_DAYS = 90;
const MS = (column) => `(EXTRACT(EPOCH FROM ${column}) * 1000)::bigint::text`;

async function assertConserved(db, userId) {
  const money = await ledger(db, userId);
  assert.equal(money.total_earned, money.audit_credits, `user ${userId}: total_earned = audit checkpoint + kept audit rows`);
  assert.equal(
    units(money.total_earned),
    units(money.credited_ops) + units(money.approved_reviews),
    `user ${userId}: total_earned = op checkpoint + kept op results + approved reviews`,
  );
  assert.equal(money.pending_review, money.pending_reviews, `user ${userId}: pending review`);
  return money;
}

describe('a year of syncs on a moved clock', () => {
  const fixture = serverFixture();

  test('monthly retention keeps conservation, drops only old months, and old resends stay duplicates', async () => {
    const { db } = fixture.database;
    const { clock } = fixture.server;
    const users = [3_000_001, 3_000_002, 3_000_003];
    const seqs = new Map(users.map((u) => [u, 0]));
    const firstOps = new Map();
    const expected = new Map(users.map((u) => [u, 0n]));
    clock.set(START_MS);
    for (const userId of users) assert.equal((await fixture.state(userId)).status, 200);

    // Every other day each user syncs an hour of mining (well inside the server's budget); every
    // month one of them sends a claim for review, approved by an admin in the next month.
    const runs = [];
    let pendingApproval = null;
    let lastMonth = new Date(START_MS).getUTCMonth();
    for (let day = 2; day <= 366; day += 2) {
      const now = clock.set(START_MS + day * DAY_MS) ?? clock.now();
      for (const [index, userId] of users.entries()) {
        const seq = seqs.get(userId) + 1;
        seqs.set(userId, seq);
        const review = day % 30 === index * 2;
        const op = accrualOp('c-1', seq, review ? '0.50000000' : '1.00000000', {
          from: now - HOUR_MS,
          to: now,
          type: review ? 'verification' : 'accrual',
        });
        if (seq === 1) firstOps.set(userId, op);
        const answer = await fixture.sync(userId, { clientId: 'c-1', ops: [op] });
        assert.equal(answer.status, 200, answer.text);
        const [result] = answer.json.results;
        assert.equal(result.status, review ? 'review' : 'applied');
        if (!review) expected.set(userId, expected.get(userId) + units(result.credited));
        else pendingApproval = { userId, amount: op.amount };
      }
      const month = new Date(now).getUTCMonth();
      if (month !== lastMonth) {
        lastMonth = month;
        if (pendingApproval) {
          const [item] = (await fixture.admin(`/v1/admin/reviews?userId=${pendingApproval.userId}`)).json.reviews;
          const decided = await fixture.admin(`/v1/admin/users/${item.userId}/reviews/${item.id}/approve`, {});
          assert.equal(decided.status, 200, decided.text);
          expected.set(item.userId, expected.get(item.userId) + units(item.amount));
          pendingApproval = null;
        }
        // The operator's monthly cron.
        runs.push(await runRetention(db, { nowMs: now, keepDays: KEEP_DAYS }));
        for (const userId of users) await assertConserved(db, userId);
      }
    }

    const dropped = runs.flatMap((run) => run.dropped.map((d) => d.partition));
    assert.ok(dropped.some((name) => name.startsWith('earnings_audit_log_p')), `audit months dropped: ${dropped}`);
    assert.ok(dropped.some((name) => name.startsWith('sync_op_results_p')), `op result months dropped: ${dropped}`);
    // What is kept: no month ended before the cutoff, every row younger than retention is there.
    const cutoff = runs.at(-1).cutoff;
    const kept = await db.query(
      `SELECT partition::text AS partition, ${MS('upper')} AS upper FROM earnings_partitions() WHERE upper IS NOT NULL ORDER BY upper`,
    );
    for (const p of kept) assert.ok(Number(p.upper) > Date.parse(cutoff), `${p.partition} ends ${p.upper}, before ${cutoff}`);
    const [{ oldest }] = await db.query(`SELECT ${MS('min(created_at)')} AS oldest FROM sync_op_results`);
    assert.ok(Number(oldest) <= Date.parse(cutoff) + 31 * DAY_MS, `rows since ${oldest} kept, retention ${cutoff}`);
    const [{ waiting }] = await db.query(
      `SELECT (SELECT COUNT(*) FROM earnings_audit_log_default) + (SELECT COUNT(*) FROM sync_op_results_default) AS waiting`,
    );
    assert.equal(Number(waiting), 0, 'every row is in its month');

    for (const userId of users) {
      const money = await assertConserved(db, userId);
      assert.equal(units(money.total_earned), expected.get(userId), `user ${userId}: what was credited`);
      const [checkpoint] = await db.query(
        'SELECT audit_credited::text AS audit, credited_ops::text AS ops, audit_rows::int AS rows FROM earnings_checkpoints WHERE user_id = $1',
        [userId],
      );
      assert.ok(units(checkpoint.audit) > 0n && units(checkpoint.ops) > 0n && checkpoint.rows > 0, JSON.stringify(checkpoint));

      // The first op's answer went with its month; the resend is still a duplicate, credits
      // nothing, and so is a resend whose answer is still kept (that one with its amounts).
      const before = money.total_earned;
      const old = await fixture.sync(userId, { clientId: 'c-1', ops: [firstOps.get(userId)] });
      assert.equal(old.status, 200, old.text);
      assert.equal(old.json.results[0].status, 'duplicate');
      // Its original amounts went with the month: the answer says this request credited nothing.
      assert.equal(old.json.results[0].credited, '0.00000000');
      const [stillThere] = await db.query(
        `SELECT seq::int AS seq, credited::text AS credited FROM sync_op_results WHERE user_id = $1 AND status = 'applied' ORDER BY seq DESC LIMIT 1`,
        [userId],
      );
      const now = clock.now();
      const recent = await fixture.sync(userId, {
        clientId: 'c-1',
        ops: [accrualOp('c-1', stillThere.seq, '1.00000000', { from: now - HOUR_MS, to: now })],
      });
      assert.equal(recent.json.results[0].status, 'duplicate');
      assert.equal(recent.json.results[0].credited, stillThere.credited);
      assert.equal((await ledger(db, userId)).total_earned, before);
    }

    // A second run at the same time finds nothing to do.
    const again = await runRetention(db, { nowMs: clock.now(), keepDays: KEEP_DAYS });
    assert.deepEqual({ created: again.created, dropped: again.dropped }, { created: 0, dropped: [] });
  });
});

test('a live database of the previous version upgrades with its audit rows, op results and review items in place', async () => {
  const database = await openTestDatabase({ migrated: false });
  const { db } = database;
  try {
    const previous = fs.mkdtempSync(path.join(os.tmpdir(), 'earnings-migrations-'));
    for (const name of fs.readdirSync(MIGRATIONS_DIR).filter((n) => n < '009')) {
      fs.copyFileSync(path.join(MIGRATIONS_DIR, name), path.join(previous, name));
    }
    await migrate(db, { dir: previous });
    fs.rmSync(previous, { recursive: true });
    // What the previous server wrote for user 41: two credits over two months and an item
    // waiting for review; its op results with op_id, its audit rows with client_id.
    await db.exec(`
      INSERT INTO user_earnings (user_id, total_earned, current_earnings, pending_review, budget_anchor)
        VALUES (41, 3, 3, 2, 0);
      INSERT INTO sync_client_sequences (user_id, client_id, last_seq) VALUES (41, 'c', 3);
      INSERT INTO sync_op_results (user_id, client_id, seq, op_id, status, credited, review, created_at) VALUES
        (41, 'c', 1, 'c:1', 'applied', 1, 0, '2025-11-10T00:00:00Z'),
        (41, 'c', 2, 'c:2', 'applied', 2, 0, '2025-12-10T00:00:00Z'),
        (41, 'c', 3, 'c:3', 'review', 0, 2, '2025-12-11T00:00:00Z');
      INSERT INTO earnings_audit_log (user_id, operation_type, old_value, new_value, timestamp, source, client_id, op_id) VALUES
        (41, 'credit', 0, 1, '2025-11-10T00:00:00Z', 'sync', 'c', 'c:1'),
        (41, 'credit', 1, 3, '2025-12-10T00:00:00Z', 'sync', 'c', 'c:2');
      INSERT INTO earnings_review_queue (user_id, client_id, op_id, seq, amount, reason, created_at)
        VALUES (41, 'c', 'c:3', 3, 2, 'verification', '2025-12-11T00:00:00Z');
    `);

    await migrate(db);

    const parts = await db.query(
      `SELECT partition::text AS partition, lower, ${MS('upper')} AS upper FROM earnings_partitions() ORDER BY partition`,
    );
    const legacy = parts.filter((p) => p.partition.endsWith('_legacy'));
    assert.deepEqual(
      legacy.map((p) => [p.partition, p.lower, new Date(Number(p.upper)).toISOString()]),
      [
        ['earnings_audit_log_legacy', null, '2026-01-01T00:00:00.000Z'],
        ['sync_op_results_legacy', null, '2026-01-01T00:00:00.000Z'],
      ],
    );
    const money = await assertConserved(db, 41);
    assert.equal(money.total_earned, '3.00000000');
    const [item] = await db.query(`SELECT id::int AS id FROM earnings_review_queue WHERE user_id = 41`);
    const keys = await db.query(
      `SELECT conrelid::regclass::text AS tab, pg_get_constraintdef(oid) AS def FROM pg_constraint
       WHERE contype = 'p' AND conrelid IN ('user_earnings'::regclass, 'earnings_review_queue'::regclass) ORDER BY 1`,
    );
    assert.deepEqual(keys, [
      { tab: 'earnings_review_queue', def: 'PRIMARY KEY (id, user_id)' },
      { tab: 'user_earnings', def: 'PRIMARY KEY (id, user_id)' },
    ]);
    assert.ok(item.id > 0);

    // A retention far past those months drops the old tables whole into the checkpoint.
    const run = await runRetention(db, { nowMs: Date.parse('2026-12-01T00:00:00Z'), keepDays: 180 });
    assert.ok(run.dropped.some((d) => d.partition === 'earnings_audit_log_legacy'), JSON.stringify(run));
    const after = await assertConserved(db, 41);
    assert.equal(after.audit_credits, '3.00000000');
    assert.equal(after.audit_rows, 0);
  } finally {
    await database.drop();
  }
});
