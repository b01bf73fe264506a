// Property-based tests of the server (fast-check, seeded, >= 100 runs each). Each run uses a user
// of its own, so runs share one database and one server without seeing each other.
import assert from 'node:assert/strict';
import { test } from 'node:test';

import fc from 'fast-check';

import {
  BOT_TOKEN,
  HOUR_MS,
  START_MS,
  accrualOp,
  call,
  contiguousOps,
  dev,
  formatUnits,
  ledger,
  serverFixture,
  tableCounts,
  units,
} from './helpers.js';

const RUNS = 100;
const RATE_UNITS = 100000000n; // the default 1 TON per hour
const TOLERANCE_MS = 60_000;
const OFFLINE_CAP_MS = 8 * HOUR_MS;

const fixture = serverFixture();
const { sync, state, admin } = fixture;
let nextUser = 5_000_000_000; // past 32 bits, like real Telegram ids

const budgetUnits = (ms) => (RATE_UNITS * BigInt(ms)) / BigInt(HOUR_MS);

const amountArb = fc.bigInt({ min: 1n, max: 20_000_000n }).map(formatUnits); // up to 0.2 TON
const clientIdArb = fc.stringMatching(/^[A-Za-z0-9_-]{1,64}$/);

async function checkConservation(userId) {
  const money = await ledger(fixture.database.db, userId);
  assert.equal(money.total_earned, money.audit_credits, 'total_earned == audit log credits');
  assert.equal(
    units(money.total_earned),
    units(money.credited_ops) + units(money.approved_reviews),
    'total_earned == credited ops + approved reviews',
  );
  assert.equal(money.pending_review, money.pending_reviews, 'pending_review == pending queue');
  return money;
}

test('Property 1: Database Schema Consistency - any user and client id initialise and sync without field errors', async () => {
  await fc.assert(
    fc.asyncProperty(fc.integer({ min: 1, max: Number.MAX_SAFE_INTEGER }), clientIdArb, async (userId, clientId) => {
      fixture.server.clock.set(START_MS);
      const first = await state(userId, clientId);
      assert.equal(first.status, 200);
      assert.equal(first.json.state.userId, userId);
      fixture.server.clock.advance(60_000);
      const seq = first.json.state.lastSeq + 1;
      const answer = await sync(userId, { clientId, ops: [accrualOp(clientId, seq, '0.00000001')] });
      assert.equal(answer.status, 200, answer.text);
      assert.equal(answer.json.state.lastSeq, seq);
      for (const key of ['totalEarned', 'currentEarnings', 'baseEarningRate', 'pendingReview']) {
        assert.match(answer.json.state[key], /^\d+\.\d{8}$/);
      }
    }),
    { numRuns: RUNS, seed: 1 },
  );
});

// A session: batches sent after random pauses, some responses "lost" (the batch is resent), some
// resent out of order; at the end, every op is credited or queued exactly once and the money
// adds up everywhere.
const sessionArb = fc.array(
  fc.record({
    pauseMs: fc.integer({ min: 0, max: 3 * HOUR_MS }),
    amounts: fc.array(amountArb, { minLength: 1, maxLength: 5 }),
    resends: fc.integer({ min: 0, max: 2 }),
    verification: fc.boolean(),
  }),
  { minLength: 1, maxLength: 4 },
);

test('Property 5: Offline Data Reconciliation - after any session with lost responses, nothing is lost or doubled', async () => {
  await fc.assert(
    fc.asyncProperty(sessionArb, async (session) => {
      const userId = (nextUser += 1);
      const clientId = 'c-prop5';
      fixture.server.clock.set(START_MS);
      await state(userId, clientId);
      let seq = 0;
      let claimed = 0n;
      let covered = START_MS;
      const firstAnswers = new Map();
      for (const step of session) {
        const now = fixture.server.clock.advance(step.pauseMs);
        const ops = contiguousOps(clientId, seq + 1, step.amounts, { fromMs: covered, toMs: now }).map((op, i) =>
          step.verification && i === 0 ? { ...op, type: 'verification' } : op,
        );
        covered = now;
        seq += ops.length;
        for (const amount of step.amounts) claimed += units(amount);
        for (let attempt = 0; attempt <= step.resends; attempt += 1) {
          const answer = await sync(userId, { clientId, ops });
          assert.equal(answer.status, 200, answer.text);
          for (const result of answer.json.results) {
            assert.equal(units(result.credited) + units(result.review), units(ops.find((o) => o.seq === result.seq).amount));
            if (attempt === 0) {
              assert.ok(['applied', 'review'].includes(result.status), result.status);
              firstAnswers.set(result.seq, result);
            } else {
              assert.equal(result.status, 'duplicate');
              assert.equal(result.credited, firstAnswers.get(result.seq).credited);
              assert.equal(result.review, firstAnswers.get(result.seq).review);
            }
          }
        }
      }
      const money = await checkConservation(userId);
      assert.equal(units(money.total_earned) + units(money.pending_review), claimed, 'credited + under review == claimed');
    }),
    { numRuns: RUNS, seed: 5 },
  );
});

test('Property 6: Network Interruption Resilience - the same batch sent concurrently is credited once', async () => {
  await fc.assert(
    fc.asyncProperty(fc.array(amountArb, { minLength: 1, maxLength: 5 }), fc.integer({ min: 2, max: 4 }), async (amounts, copies) => {
      const userId = (nextUser += 1);
      const clientId = 'c-prop6';
      fixture.server.clock.set(START_MS);
      await state(userId, clientId);
      fixture.server.clock.advance(HOUR_MS);
      const ops = contiguousOps(clientId, 1, amounts, { toMs: START_MS + HOUR_MS });
      const answers = await Promise.all(Array.from({ length: copies }, () => sync(userId, { clientId, ops })));
      const fresh = answers.filter((a) => a.json.results.every((r) => r.status === 'applied' || r.status === 'review'));
      assert.equal(fresh.length, 1, 'exactly one copy applied');
      for (const answer of answers) {
        assert.equal(answer.json.state.totalEarned !== undefined, true);
        if (answer !== fresh[0]) assert.ok(answer.json.results.every((r) => r.status === 'duplicate'));
      }
      const total = amounts.reduce((sum, a) => sum + units(a), 0n);
      const money = await checkConservation(userId);
      assert.equal(units(money.total_earned) + units(money.pending_review), total);
    }),
    { numRuns: RUNS, seed: 6 },
  );
});

test('Property 16: Earnings Amount Validation - malformed, non-positive or oversized amounts are refused and write nothing', async () => {
  const badAmount = fc.oneof(
    fc.bigInt({ min: 0n, max: 10n ** 12n }).map((v) => `-${formatUnits(v)}`),
    fc.constant('0'),
    fc.constant('0.00000000'),
    fc.bigInt({ min: 10n ** 10n, max: 10n ** 15n }).map((v) => `${v}.5`),
    fc.stringMatching(/^\d{1,3}\.\d{9,12}$/),
    fc.stringMatching(/^\d{1,3}e\d$/),
    fc.stringMatching(/^ \d{1,3}$/),
    fc.double({ noNaN: true }),
    fc.constant(null),
  );
  const userId = (nextUser += 1);
  fixture.server.clock.set(START_MS);
  await state(userId, 'c-prop16');
  fixture.server.clock.advance(HOUR_MS);
  const before = await tableCounts(fixture.database.db);
  await fc.assert(
    fc.asyncProperty(badAmount, async (amount) => {
      const op = { ...accrualOp('c-prop16', 1, '0.1'), amount };
      const answer = await sync(userId, { clientId: 'c-prop16', ops: [op] });
      assert.equal(answer.status, 400, `${JSON.stringify(amount)} -> ${answer.text}`);
      assert.equal(answer.json.error.code, 'REQUEST_INVALID');
    }),
    { numRuns: RUNS, seed: 16 },
  );
  assert.deepEqual(await tableCounts(fixture.database.db), before);
});

test('Property 17: Timestamp Sequence Validation - an op whose window ends before it starts is refused and writes nothing', async () => {
  await fc.assert(
    fc.asyncProperty(fc.integer({ min: 1, max: HOUR_MS }), amountArb, async (length, amount) => {
      const userId = (nextUser += 1);
      const clientId = 'c-prop17';
      fixture.server.clock.set(START_MS);
      await state(userId, clientId);
      fixture.server.clock.advance(2 * HOUR_MS);
      const before = await ledger(fixture.database.db, userId);
      const inverted = await sync(userId, {
        clientId,
        ops: [accrualOp(clientId, 1, amount, { from: START_MS + length, to: START_MS })],
      });
      assert.equal(inverted.status, 400);
      assert.equal(inverted.json.error.code, 'REQUEST_INVALID');
      assert.deepEqual(await ledger(fixture.database.db, userId), before);
    }),
    { numRuns: RUNS, seed: 17 },
  );
});

test('Property 18: Inconsistency Detection - what exceeds the server budget is flagged for review, with context', async () => {
  await fc.assert(
    fc.asyncProperty(fc.integer({ min: 0, max: 2 * HOUR_MS }), fc.bigInt({ min: 1n, max: 10n ** 10n }), async (elapsed, claim) => {
      const userId = (nextUser += 1);
      const clientId = 'c-prop18';
      fixture.server.clock.set(START_MS);
      await state(userId, clientId);
      fixture.server.clock.advance(elapsed);
      const amount = formatUnits(claim);
      const answer = await sync(userId, { clientId, ops: [accrualOp(clientId, 1, amount)] });
      const [result] = answer.json.results;
      const budget = budgetUnits(elapsed + TOLERANCE_MS);
      const expectedCredit = claim < budget ? claim : budget;
      assert.equal(units(result.credited), expectedCredit);
      assert.equal(units(result.review), claim - expectedCredit);
      const queued = await fixture.database.db.query(
        `SELECT amount::text AS amount, reason, context FROM earnings_review_queue WHERE user_id = $1`,
        [userId],
      );
      if (claim > budget) {
        assert.equal(queued.length, 1);
        assert.equal(units(queued[0].amount), claim - budget);
        assert.equal(queued[0].reason, 'exceeds_budget');
        assert.ok(Object.keys(queued[0].context).length > 0);
      } else {
        assert.equal(queued.length, 0);
      }
    }),
    { numRuns: RUNS, seed: 18 },
  );
});

test('Property 19: Audit Log Completeness - every credit has its audit record and the log sums to total_earned', async () => {
  await fc.assert(
    fc.asyncProperty(fc.array(fc.tuple(fc.integer({ min: 0, max: HOUR_MS }), amountArb), { minLength: 1, maxLength: 5 }), async (steps) => {
      const userId = (nextUser += 1);
      const clientId = 'c-prop19';
      fixture.server.clock.set(START_MS);
      await state(userId, clientId);
      let seq = 0;
      let covered = START_MS;
      for (const [pause, amount] of steps) {
        const now = fixture.server.clock.advance(pause);
        seq += 1;
        await sync(userId, { clientId, ops: [accrualOp(clientId, seq, amount, { from: covered, to: now })] });
        covered = now;
      }
      await checkConservation(userId);
      const credited = await fixture.database.db.query(
        `SELECT client_id || ':' || seq AS op_id FROM sync_op_results WHERE user_id = $1 AND credited > 0 ORDER BY seq`,
        [userId],
      );
      const audited = await fixture.database.db.query(
        `SELECT op_id FROM earnings_audit_log WHERE user_id = $1 AND operation_type = 'credit' ORDER BY id`,
        [userId],
      );
      assert.deepEqual(audited.map((r) => r.op_id), credited.map((r) => r.op_id));
    }),
    { numRuns: RUNS, seed: 19 },
  );
});

test('Property 21: Database Operation Batching - one batch equals the same ops one by one, and applies all or nothing', async () => {
  await fc.assert(
    fc.asyncProperty(
      fc.array(amountArb, { minLength: 2, maxLength: 6 }),
      fc.integer({ min: 0, max: 2 * HOUR_MS }),
      fc.nat(),
      async (amounts, elapsed, badIndexSeed) => {
        const batched = (nextUser += 1);
        const single = (nextUser += 1);
        fixture.server.clock.set(START_MS);
        await state(batched, 'c-batch');
        await state(single, 'c-batch');
        fixture.server.clock.advance(elapsed);
        const ops = contiguousOps('c-batch', 1, amounts, { toMs: START_MS + elapsed });
        const badIndex = badIndexSeed % ops.length;
        const poisoned = ops.map((op, i) => (i === badIndex ? { ...op, amount: '-1' } : op));
        const before = await ledger(fixture.database.db, batched);
        const refused = await sync(batched, { clientId: 'c-batch', ops: poisoned });
        assert.equal(refused.status, 400);
        assert.deepEqual(await ledger(fixture.database.db, batched), before, 'a refused batch writes nothing');
        const batchAnswer = await sync(batched, { clientId: 'c-batch', ops });
        let lastState;
        for (const op of ops) lastState = (await sync(single, { clientId: 'c-batch', ops: [op] })).json.state;
        assert.equal(batchAnswer.json.state.totalEarned, lastState.totalEarned);
        assert.equal(batchAnswer.json.state.pendingReview, lastState.pendingReview);
        await checkConservation(batched);
        await checkConservation(single);
      },
    ),
    { numRuns: RUNS, seed: 21 },
  );
});

test('Property 26: Offline Earnings Capping - after any silence, credit never exceeds rate x min(silence, cap) + tolerance', async () => {
  await fc.assert(
    fc.asyncProperty(fc.integer({ min: 0, max: 72 * HOUR_MS }), fc.bigInt({ min: 1n, max: 10n ** 11n }), async (silence, claim) => {
      const userId = (nextUser += 1);
      const clientId = 'c-prop26';
      fixture.server.clock.set(START_MS);
      await state(userId, clientId);
      fixture.server.clock.advance(silence);
      const answer = await sync(userId, {
        clientId,
        ops: [accrualOp(clientId, 1, formatUnits(claim), { from: START_MS, to: START_MS + silence })],
      });
      const [result] = answer.json.results;
      const bound = budgetUnits(Math.min(silence, OFFLINE_CAP_MS) + TOLERANCE_MS);
      assert.ok(units(result.credited) <= bound, `${result.credited} > ${formatUnits(bound)}`);
      assert.equal(units(result.credited) + units(result.review), claim, 'the excess is held, not lost');
    }),
    { numRuns: RUNS, seed: 26 },
  );
});

test('Property 28: Excessive Offline Earnings Verification - review items are credited exactly once on approval', async () => {
  await fc.assert(
    fc.asyncProperty(fc.bigInt({ min: 1n, max: 10n ** 10n }), fc.boolean(), fc.integer({ min: 1, max: 3 }), async (claim, approve, decisions) => {
      const userId = (nextUser += 1);
      const clientId = 'c-prop28';
      fixture.server.clock.set(START_MS);
      await state(userId, clientId);
      const amount = formatUnits(claim);
      await sync(userId, { clientId, ops: [accrualOp(clientId, 1, amount, { type: 'verification' })] });
      const [item] = await fixture.database.db.query(`SELECT id::text AS id FROM earnings_review_queue WHERE user_id = $1`, [userId]);
      const verb = approve ? 'approve' : 'reject';
      const answers = await Promise.all(
        Array.from({ length: decisions }, () => admin(`/v1/admin/reviews/${item.id}/${verb}`, {})),
      );
      assert.equal(answers.filter((a) => a.status === 200).length, 1);
      assert.ok(answers.filter((a) => a.status !== 200).every((a) => a.json.error.code === 'REVIEW_DECIDED'));
      const money = await checkConservation(userId);
      assert.equal(money.total_earned, approve ? amount : '0.00000000');
      assert.equal(money.pending_review, '0.00000000');
    }),
    { numRuns: RUNS, seed: 28 },
  );
});

test('Property 11: Error Logging Completeness / Property 30: Error Context Capture - every refusal is logged with its context, never the secrets', async () => {
  const refusal = fc.oneof(
    fc.constant({ body: '{', code: 'REQUEST_INVALID' }),
    fc.constant({ body: { clientId: 'c-log', ops: [{ bogus: true }] }, code: 'REQUEST_INVALID' }),
    fc.constant({ auth: `tma auth_date=1&user=%7B%22id%22%3A1%7D&hash=${'a'.repeat(64)}`, code: 'AUTH_INVALID' }),
    fc.constant({ auth: 'dev 0', code: 'AUTH_INVALID' }),
  );
  await fc.assert(
    fc.asyncProperty(refusal, fc.integer({ min: 1, max: 2 ** 40 }), async (bad, userId) => {
      const mark = fixture.server.log.lines.length;
      const answer = await call(fixture.server.url, '/v1/sync', {
        method: 'POST',
        auth: bad.auth ?? dev(userId),
        body: bad.body ?? { clientId: 'c-log', ops: [] },
      });
      assert.equal(answer.json.error.code, bad.code);
      const logged = fixture.server.log.lines.slice(mark).find((line) => line.code === bad.code);
      assert.ok(logged, 'the refusal was logged');
      assert.equal(logged.path, '/v1/sync');
      assert.equal(logged.status, answer.status);
      assert.equal(typeof logged.msg, 'string');
      if (!bad.auth) assert.equal(logged.userId, userId);
      const text = JSON.stringify(fixture.server.log.lines.slice(mark));
      assert.ok(!text.includes(BOT_TOKEN) && !text.includes('a'.repeat(64)), 'no secrets in logs');
    }),
    { numRuns: RUNS, seed: 11 },
  );
});

async function counters() {
  const text = (await call(fixture.server.url, '/metrics')).text;
  const read = (pattern) => Number(new RegExp(`^${pattern} (\\d+)`, 'm').exec(text)?.[1] ?? 0);
  return {
    requests: read('earnings_sync_requests_total\\{outcome="ok"\\}'),
    clientErrors: read('earnings_sync_requests_total\\{outcome="client_error"\\}'),
    applied: read('earnings_sync_ops_total\\{status="applied"\\}'),
    duplicate: read('earnings_sync_ops_total\\{status="duplicate"\\}'),
    review: read('earnings_sync_ops_total\\{status="review"\\}'),
    gap: read('earnings_sync_ops_total\\{status="gap"\\}'),
    latencies: read('earnings_sync_duration_seconds_count\\{outcome="ok"\\}'),
  };
}

test('Property 29: Sync Metrics Logging / Property 32: KPI Tracking - metrics count exactly the outcomes the clients saw', async () => {
  await fc.assert(
    fc.asyncProperty(
      fc.array(fc.constantFrom('fresh', 'resend', 'gap', 'verify', 'invalid'), { minLength: 1, maxLength: 6 }),
      async (actions) => {
        const userId = (nextUser += 1);
        const clientId = 'c-kpi';
        fixture.server.clock.set(START_MS);
        await state(userId, clientId);
        fixture.server.clock.advance(HOUR_MS);
        const before = await counters();
        const seen = { requests: 0, clientErrors: 0, applied: 0, duplicate: 0, review: 0, gap: 0 };
        let seq = 0;
        let last = null;
        for (const action of actions) {
          let body;
          if (action === 'fresh' || action === 'verify' || (action === 'resend' && !last)) {
            seq += 1;
            body = { clientId, ops: [accrualOp(clientId, seq, '0.00001000', { type: action === 'verify' ? 'verification' : 'accrual' })] };
            last = body;
          } else if (action === 'resend') {
            body = last;
          } else if (action === 'gap') {
            body = { clientId, ops: [accrualOp(clientId, seq + 2, '0.00001000')] };
          } else {
            body = { clientId, ops: 'none' };
          }
          const answer = await sync(userId, body);
          if (answer.status === 200) {
            seen.requests += 1;
            for (const result of answer.json.results) seen[result.status] += 1;
          } else {
            seen.clientErrors += 1;
          }
        }
        const after = await counters();
        for (const key of Object.keys(seen)) assert.equal(after[key] - before[key], seen[key], key);
        assert.equal(after.latencies - before.latencies, seen.requests, 'one latency sample per answered sync');
      },
    ),
    { numRuns: RUNS, seed: 29 },
  );
});

test('Property 31: Discrepancy Reporting - every review item reports what was claimed, when, and the budget it exceeded', async () => {
  await fc.assert(
    fc.asyncProperty(fc.integer({ min: 0, max: HOUR_MS }), fc.bigInt({ min: 2n * 10n ** 8n, max: 10n ** 10n }), async (elapsed, claim) => {
      const userId = (nextUser += 1);
      const clientId = 'c-prop31';
      fixture.server.clock.set(START_MS);
      await state(userId, clientId);
      fixture.server.clock.advance(elapsed);
      await sync(userId, { clientId, ops: [accrualOp(clientId, 1, formatUnits(claim))] });
      const reviews = (await admin(`/v1/admin/reviews?userId=${userId}`)).json.reviews;
      assert.equal(reviews.length, 1);
      const [item] = reviews;
      assert.equal(item.clientId, clientId);
      assert.equal(item.opId, `${clientId}:1`);
      assert.equal(item.seq, 1);
      assert.equal(item.createdAt, START_MS + elapsed);
      assert.equal(item.status, 'pending');
      assert.equal(units(item.amount) > 0n, true);
      assert.ok(JSON.stringify(item.context).length > 2, 'context explains the discrepancy');
    }),
    { numRuns: RUNS, seed: 31 },
  );
});
