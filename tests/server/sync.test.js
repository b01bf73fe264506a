// Crediting through the HTTP API, example by example: first contact, the server budget, exactly
// once (duplicates answer as before, gaps refused), review queue and decisions, refused requests
// writing nothing, isolation between users, and a transaction that fails half way.
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';

import {
  HOUR_MS,
  START_MS,
  accrualOp,
  call,
  contiguousOps,
  dev,
  ledger,
  serverFixture,
  startTestServer,
  tableCounts,
} from './helpers.js';

const fixture = serverFixture();
const { sync, state, admin } = fixture;
let nextUser = 1000;
const newUser = () => (nextUser += 1);

// At 1 TON/h: one minute earns 0.01666666 TON (rounded down to the unit).
const MINUTE = 60_000;

async function conserved(userId) {
  const money = await ledger(fixture.database.db, userId);
  assert.equal(money.total_earned, money.audit_credits, 'total_earned equals the audit log');
  const approved = BigInt(money.approved_reviews.replace('.', ''));
  const credited = BigInt(money.credited_ops.replace('.', ''));
  assert.equal(BigInt(money.total_earned.replace('.', '')), credited + approved, 'total_earned equals credited ops');
  assert.equal(money.pending_review, money.pending_reviews, 'pending_review equals the pending queue');
  return money;
}

describe('crediting', () => {
  test('first contact by GET /v1/state starts the budget; a minute later a minute is credited', async () => {
    const userId = newUser();
    fixture.server.clock.set(START_MS);
    const first = await state(userId);
    assert.equal(first.status, 200);
    assert.deepEqual(first.json.state, {
      userId,
      totalEarned: '0.00000000',
      currentEarnings: '0.00000000',
      baseEarningRate: '1.00000000',
      pendingReview: '0.00000000',
      lastSeq: 0,
      lastUpdate: START_MS,
      startDate: START_MS,
      isActive: true,
      syncStatus: 'synced',
    });
    fixture.server.clock.advance(MINUTE);
    const answer = await sync(userId, { clientId: 'c-1', ops: [accrualOp('c-1', 1, '0.01666666')] });
    assert.equal(answer.status, 200);
    assert.deepEqual(answer.json.results, [
      { id: 'c-1:1', seq: 1, status: 'applied', credited: '0.01666666', review: '0.00000000' },
    ]);
    assert.equal(answer.json.state.totalEarned, '0.01666666');
    assert.equal(answer.json.state.lastSeq, 1);
    assert.equal(answer.json.serverTime, START_MS + MINUTE);
    const money = await conserved(userId);
    assert.equal(money.audit_rows, 1);
  });

  test('a claim over the budget credits the budget and queues the rest for review with its context', async () => {
    const userId = newUser();
    fixture.server.clock.set(START_MS);
    await state(userId);
    fixture.server.clock.advance(MINUTE);
    // Budget: 1 minute elapsed + 1 minute tolerance = 0.03333333 TON.
    const answer = await sync(userId, { clientId: 'c-1', ops: [accrualOp('c-1', 1, '5.00000000')] });
    const [result] = answer.json.results;
    assert.equal(result.status, 'applied');
    assert.equal(result.credited, '0.03333333');
    assert.equal(result.review, '4.96666667');
    assert.equal(answer.json.state.pendingReview, '4.96666667');
    const reviews = (await admin('/v1/admin/reviews')).json.reviews.filter((r) => r.userId === userId);
    assert.equal(reviews.length, 1);
    assert.equal(reviews[0].amount, '4.96666667');
    assert.equal(reviews[0].reason, 'exceeds_budget');
    assert.equal(reviews[0].opId, 'c-1:1');
    assert.ok(Object.keys(reviews[0].context).length > 0, 'the review carries its context');
    const warned = await fixture.server.log.waitFor((line) => line.userId === userId && line.op?.review === '4.96666667');
    assert.deepEqual(warned.state, {
      totalEarned: '0.03333333',
      pendingReview: '4.96666667',
      lastSeq: 1,
      baseEarningRate: '1.00000000',
    });
    assert.equal(warned.serverTime, START_MS + MINUTE);
    await conserved(userId);
  });

  test('approving a review credits it exactly once; a second decision changes nothing', async () => {
    const userId = newUser();
    fixture.server.clock.set(START_MS);
    await state(userId);
    await sync(userId, { clientId: 'c-1', ops: [accrualOp('c-1', 1, '2.00000000', { type: 'verification' })] });
    const [item] = (await admin('/v1/admin/reviews')).json.reviews.filter((r) => r.userId === userId);
    assert.equal(item.reason, 'verification');
    assert.equal(item.amount, '2.00000000');
    const decide = (verb) => `/v1/admin/users/${userId}/reviews/${item.id}/${verb}`;
    // Another user's address for the item finds nothing and creates no row for that user.
    const stranger = userId + 1_000_000;
    const misaddressed = await admin(`/v1/admin/users/${stranger}/reviews/${item.id}/approve`, {});
    assert.equal(misaddressed.status, 404);
    assert.equal(misaddressed.json.error.code, 'NOT_FOUND');
    assert.deepEqual(await fixture.database.db.query('SELECT 1 FROM user_earnings WHERE user_id = $1', [stranger]), []);
    const approved = await admin(decide('approve'), { note: 'checked the mining log' });
    assert.equal(approved.status, 200);
    assert.equal(approved.json.review.status, 'approved');
    assert.equal(approved.json.review.userId, userId);
    const again = await admin(decide('approve'), {});
    assert.equal(again.status, 409);
    assert.equal(again.json.error.code, 'REVIEW_DECIDED');
    // The old address by id alone reaches the same item.
    const rejectAfter = await admin(`/v1/admin/reviews/${item.id}/reject`, {});
    assert.equal(rejectAfter.status, 409);
    const after = (await state(userId)).json.state;
    assert.equal(after.totalEarned, '2.00000000');
    assert.equal(after.pendingReview, '0.00000000');
    await conserved(userId);
  });

  test('a sync after a review decision is planned on the row the decision left, not the one this server last wrote', async () => {
    const userId = newUser();
    fixture.server.clock.set(START_MS);
    await state(userId);
    await sync(userId, { clientId: 'c-1', ops: [accrualOp('c-1', 1, '2.00000000', { type: 'verification' })] });
    const [item] = (await admin('/v1/admin/reviews')).json.reviews.filter((r) => r.userId === userId);
    assert.equal((await admin(`/v1/admin/reviews/${item.id}/approve`, {})).status, 200);
    fixture.server.clock.advance(10 * MINUTE);
    const body = { clientId: 'c-1', ops: contiguousOps('c-1', 2, ['0.10000000'], { fromMs: START_MS, toMs: START_MS + 10 * MINUTE }) };
    const answer = await sync(userId, body);
    assert.deepEqual(answer.json.results.map((r) => r.status), ['applied']);
    assert.equal(answer.json.state.totalEarned, '2.10000000');
    assert.equal(answer.json.state.pendingReview, '0.00000000');
    await conserved(userId);
  });

  test('rejecting a review takes it out of pending and credits nothing', async () => {
    const userId = newUser();
    fixture.server.clock.set(START_MS);
    await state(userId);
    await sync(userId, { clientId: 'c-1', ops: [accrualOp('c-1', 1, '3.00000000', { type: 'verification' })] });
    const [item] = (await admin('/v1/admin/reviews')).json.reviews.filter((r) => r.userId === userId);
    const rejected = await admin(`/v1/admin/reviews/${item.id}/reject`, {});
    assert.equal(rejected.status, 200);
    const after = (await state(userId)).json.state;
    assert.equal(after.totalEarned, '0.00000000');
    assert.equal(after.pendingReview, '0.00000000');
    const listed = (await admin('/v1/admin/reviews?status=rejected')).json.reviews.map((r) => r.id);
    assert.ok(listed.includes(item.id));
    await conserved(userId);
  });
});

describe('exactly once', () => {
  test('a resent request is a duplicate that answers as before and changes nothing', async () => {
    const userId = newUser();
    fixture.server.clock.set(START_MS);
    await state(userId);
    fixture.server.clock.advance(2 * MINUTE);
    const body = { clientId: 'c-1', ops: contiguousOps('c-1', 1, ['0.01000000', '0.10000000']) };
    const first = await sync(userId, body);
    const before = await tableCounts(fixture.database.db);
    const rowBefore = await fixture.database.db.query('SELECT * FROM user_earnings WHERE user_id = $1', [userId]);
    fixture.server.clock.advance(MINUTE);
    const second = await sync(userId, body);
    assert.deepEqual(await fixture.database.db.query('SELECT * FROM user_earnings WHERE user_id = $1', [userId]), rowBefore);
    assert.equal(second.status, 200);
    assert.deepEqual(
      second.json.results.map((r) => [r.status, r.credited, r.review]),
      first.json.results.map((r) => ['duplicate', r.credited, r.review]),
    );
    assert.equal(second.json.state.totalEarned, first.json.state.totalEarned);
    const after = await tableCounts(fixture.database.db);
    assert.deepEqual({ ...after, users: 0 }, { ...before, users: 0 });
    await conserved(userId);
  });

  test('a gap is refused with the expected seq; resending in order then applies', async () => {
    const userId = newUser();
    fixture.server.clock.set(START_MS);
    await state(userId);
    fixture.server.clock.advance(10 * MINUTE);
    await sync(userId, { clientId: 'c-1', ops: [accrualOp('c-1', 1, '0.01000000')] });
    const gap = await sync(userId, { clientId: 'c-1', ops: contiguousOps('c-1', 3, ['0.01000000', '0.01000000']) });
    assert.deepEqual(gap.json.results.map((r) => r.status), ['gap', 'gap']);
    assert.equal(gap.json.results[0].expectedSeq, 2);
    assert.equal(gap.json.state.totalEarned, '0.01000000');
    assert.equal(gap.json.state.lastSeq, 1);
    const inOrder = await sync(userId, {
      clientId: 'c-1',
      ops: contiguousOps('c-1', 2, ['0.01000000', '0.01000000', '0.01000000'], { fromMs: START_MS + 60_000, toMs: START_MS + 120_000 }),
    });
    assert.deepEqual(inOrder.json.results.map((r) => r.status), ['applied', 'applied', 'applied']);
    assert.equal(inOrder.json.state.totalEarned, '0.04000000');
    await conserved(userId);
  });

  test('a batch that overlaps what was applied: the old ops are duplicates with their first answer, the new one applies', async () => {
    const userId = newUser();
    fixture.server.clock.set(START_MS);
    await state(userId);
    fixture.server.clock.advance(10 * MINUTE);
    const [one, two, three] = contiguousOps('c-1', 1, ['0.01000000', '0.02000000', '0.03000000']);
    const first = await sync(userId, { clientId: 'c-1', ops: [one, two] });
    const overlap = await sync(userId, { clientId: 'c-1', ops: [two, three] });
    assert.deepEqual(overlap.json.results, [
      { ...first.json.results[1], status: 'duplicate' },
      { id: 'c-1:3', seq: 3, status: 'applied', credited: '0.03000000', review: '0.00000000' },
    ]);
    assert.equal(overlap.json.state.totalEarned, '0.06000000');
    await conserved(userId);
  });

  // Rows from before the fix get an anchor from the upgrade (011) and rows written by others since
  // from the column's default (010), so only a NULL written by hand is left to the core's rule.
  test('a row without a budget anchor starts its budget at its first sync', async () => {
    const userId = newUser();
    fixture.server.clock.set(START_MS);
    await fixture.database.db.query(
      `INSERT INTO user_earnings (user_id, current_earnings, earning_rate, base_earning_rate, total_earned, budget_anchor)
       VALUES ($1, '7.00000000', '1.00000000', '1.00000000', '7.00000000', NULL)`,
      [userId],
    );
    const answer = await sync(userId, { clientId: 'c-1', ops: [accrualOp('c-1', 1, '1.00000000')] });
    const [result] = answer.json.results;
    // Only the tolerance (one minute at 1 TON/h) is available: the server saw no mining time.
    assert.equal(result.credited, '0.01666666');
    assert.equal(result.review, '0.98333334');
    assert.equal(answer.json.state.totalEarned, '7.01666666');
  });

  test('each client of a user has its own sequence; GET /v1/state reports the asking client', async () => {
    const userId = newUser();
    fixture.server.clock.set(START_MS);
    await state(userId, 'phone');
    fixture.server.clock.advance(10 * MINUTE);
    await sync(userId, { clientId: 'phone', ops: contiguousOps('phone', 1, ['0.01000000', '0.01000000']) });
    // The tablet's minute is after the time the phone was paid for (tests/server/devices.test.js).
    const tablet = await sync(userId, {
      clientId: 'tablet',
      ops: [accrualOp('tablet', 1, '0.01000000', { from: START_MS + 5 * MINUTE, to: START_MS + 6 * MINUTE })],
    });
    assert.equal(tablet.json.results[0].status, 'applied');
    assert.equal((await state(userId, 'phone')).json.state.lastSeq, 2);
    assert.equal((await state(userId, 'tablet')).json.state.lastSeq, 1);
    assert.equal((await state(userId, 'laptop')).json.state.lastSeq, 0);
    assert.equal((await state(userId, 'laptop')).json.state.totalEarned, '0.03000000');
  });
});

describe('refused requests write nothing', () => {
  test('Security: absurd amounts, unsafe numbers, money as numbers and unknown fields: 400, no write', async () => {
    const userId = newUser();
    fixture.server.clock.set(START_MS);
    await state(userId);
    fixture.server.clock.advance(MINUTE);
    const op = accrualOp('c-1', 1, '0.01000000');
    const bad = [
      { clientId: 'c-1', ops: [{ ...op, amount: '-1.00000000' }] },
      { clientId: 'c-1', ops: [{ ...op, amount: '0' }] },
      { clientId: 'c-1', ops: [{ ...op, amount: '99999999999.00000000' }] },
      { clientId: 'c-1', ops: [{ ...op, amount: '1e3' }] },
      { clientId: 'c-1', ops: [{ ...op, amount: '0.000000001' }] },
      { clientId: 'c-1', ops: [{ ...op, amount: 0.01 }] },
      { clientId: 'c-1', ops: [{ ...op, rate: '-5' }] },
      { clientId: 'c-1', ops: [{ ...op, seq: 2 ** 53 }] },
      { clientId: 'c-1', ops: [{ ...op, seq: 1.5 }] },
      { clientId: 'c-1', ops: [{ ...op, from: op.to + 1 }] },
      { clientId: 'c-1', ops: [{ ...op, type: 'gift' }] },
      { clientId: 'c-1', ops: [{ ...op, id: 'c-2:1' }] },
      { clientId: 'c-1', ops: [{ ...op, userId: userId + 1 }] },
      { clientId: 'c-1', userId: userId + 1, ops: [op] },
      { clientId: 'c-1', ops: [op, op] },
      { clientId: 'c-1', ops: {} },
      { clientId: 'c-1' },
    ];
    const before = await tableCounts(fixture.database.db);
    for (const body of bad) {
      const answer = await sync(userId, body);
      assert.equal(answer.status, 400, JSON.stringify(body));
      assert.equal(answer.json.error.code, 'REQUEST_INVALID', JSON.stringify(body));
    }
    assert.deepEqual(await tableCounts(fixture.database.db), before);
  });

  test('Security: an absurd server-side rate is capped at maxRatePerHour', async () => {
    const userId = newUser();
    fixture.server.clock.set(START_MS);
    await state(userId);
    await fixture.database.db.query(`UPDATE user_earnings SET base_earning_rate = '99999999.00000000' WHERE user_id = $1`, [userId]);
    fixture.server.clock.advance(HOUR_MS);
    const answer = await sync(userId, { clientId: 'c-1', ops: [accrualOp('c-1', 1, '5000.00000000', { rate: '99999999' })] });
    const [result] = answer.json.results;
    // At most 1000 TON/h (the default cap) for one hour plus one minute of tolerance.
    assert.ok(BigInt(result.credited.replace('.', '')) <= 101666666666n, result.credited);
    assert.equal(BigInt(result.credited.replace('.', '')) + BigInt(result.review.replace('.', '')), 500000000000n);
    await conserved(userId);
  });

  test('Isolation: a user can only ever write their own row, whatever the body says', async () => {
    const victim = newUser();
    const attacker = newUser();
    fixture.server.clock.set(START_MS);
    await state(victim, 'victim-phone');
    await state(attacker);
    fixture.server.clock.advance(10 * MINUTE);
    await sync(victim, { clientId: 'victim-phone', ops: [accrualOp('victim-phone', 1, '0.01000000')] });
    const victimBefore = await ledger(fixture.database.db, victim);
    // Same client id as the victim, the victim's next seq: a different user's sequence.
    const attack = await sync(attacker, { clientId: 'victim-phone', ops: [accrualOp('victim-phone', 2, '0.01000000')] });
    assert.equal(attack.json.state.userId, attacker);
    assert.equal(attack.json.results[0].status, 'gap');
    assert.deepEqual(await ledger(fixture.database.db, victim), victimBefore);
    assert.equal((await state(victim, 'victim-phone')).json.state.lastSeq, 1);
  });
});

describe('failures half way', () => {
  test('Property 6 (example): a database failure of the writing statement writes nothing; the resend applies once', async () => {
    const userId = newUser();
    fixture.server.clock.set(START_MS);
    await state(userId);
    fixture.server.clock.advance(10 * MINUTE);
    // A server over a database whose writing statement fails, as a lost connection would.
    const failing = {
      ...fixture.database.db,
      query: (text, params) =>
        text.includes('updated AS (') ? Promise.reject(new Error('connection lost')) : fixture.database.db.query(text, params),
    };
    const broken = await startTestServer(failing, { clock: fixture.server.clock });
    try {
      const body = { clientId: 'c-1', ops: contiguousOps('c-1', 1, ['0.01000000', '0.02000000']) };
      const before = await tableCounts(fixture.database.db);
      const answer = await call(broken.url, '/v1/sync', { method: 'POST', auth: dev(userId), body });
      assert.equal(answer.status, 500);
      assert.equal(answer.json.error.code, 'INTERNAL');
      assert.deepEqual(await tableCounts(fixture.database.db), before);
      const logged = broken.log.lines.find((line) => line.code === 'INTERNAL');
      assert.equal(logged.userId, userId);
      assert.equal(logged.clientId, 'c-1');
      assert.equal(logged.path, '/v1/sync');
      const retried = await sync(userId, body);
      assert.deepEqual(retried.json.results.map((r) => r.status), ['applied', 'applied']);
      assert.equal(retried.json.state.totalEarned, '0.03000000');
    } finally {
      await broken.close();
    }
  });
});
