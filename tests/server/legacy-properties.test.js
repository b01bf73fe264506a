// Property 1 (Database Schema Consistency) on the rows a live app had before the fix: generated
// pre-fix rows (the app's columns only, random NULLs, no budget anchor, any id up to 2^53, money
// up to the largest amount, rates above the cap) go through the real upgrade once; then, for
// generated users among them, client ids, pauses and batches, first contact and every sync answer
// 200 with a well-formed state, and the money adds up.
import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';

import fc from 'fast-check';

import { migrate } from '../../server/migrate.js';
import {
  HOUR_MS,
  LEGACY_TABLE,
  call,
  dev,
  formatUnits,
  insertLegacyRows,
  ledger,
  manualClock,
  openTestDatabase,
  startTestServer,
} from './helpers.js';

const RUNS = 100;
const LEGACY_USERS = 150;
const MAX_UNITS = 999999999999999999n;
const AMOUNT = /^\d{1,10}\.\d{8}$/;
const SYNC_STATUSES = ['synced', 'pending', 'failed'];
const OP_STATUSES = ['applied', 'review', 'rejected', 'duplicate', 'gap'];

const nowMs = Math.floor(Date.now() / 1000) * 1000;

const amountArb = fc.oneof(
  fc.constant(null),
  fc.constant('0.00000000'),
  fc.constant(formatUnits(MAX_UNITS)),
  fc.bigInt({ min: 0n, max: MAX_UNITS }).map(formatUnits),
);
// Up to twice the server's default cap (1000 TON/h), which the core credits at the cap.
const rateArb = fc.oneof(fc.constant(null), fc.constant('0.00000000'), fc.bigInt({ min: 1n, max: 2000n * 10n ** 8n }).map(formatUnits));
const timeArb = fc.option(fc.integer({ min: nowMs - 400 * 24 * HOUR_MS, max: nowMs + 2 * HOUR_MS }), { nil: null });
const legacyRowArb = fc.record({
  user_id: fc.integer({ min: 1, max: Number.MAX_SAFE_INTEGER }),
  current_earnings: amountArb,
  earning_rate: rateArb,
  last_update: timeArb,
  created_at: timeArb,
  updated_at: timeArb,
  total_earned: amountArb,
});

const LEGACY_ROWS = fc.sample(
  fc.uniqueArray(legacyRowArb, { minLength: LEGACY_USERS, maxLength: LEGACY_USERS, selector: (r) => r.user_id }),
  { numRuns: 1, seed: 20260101 },
)[0];

let database;
let server;
before(async () => {
  database = await openTestDatabase({ migrated: false });
  await database.db.exec(LEGACY_TABLE);
  await insertLegacyRows(database.db, LEGACY_ROWS);
  await migrate(database.db, { batchRows: 40 });
  server = await startTestServer(database.db, { clock: manualClock(Math.ceil(Date.now() / 1000) * 1000 + 1000) });
});
after(async () => {
  await server?.close();
  await database?.drop();
});

function assertWellFormed(state, userId) {
  assert.equal(state.userId, userId);
  for (const key of ['totalEarned', 'currentEarnings', 'baseEarningRate', 'pendingReview']) assert.match(state[key], AMOUNT, key);
  for (const key of ['lastSeq', 'lastUpdate', 'startDate']) assert.ok(Number.isSafeInteger(state[key]) && state[key] >= 0, `${key}: ${state[key]}`);
  assert.equal(typeof state.isActive, 'boolean');
  assert.ok(SYNC_STATUSES.includes(state.syncStatus), state.syncStatus);
}

const batchArb = fc.array(
  fc.record({
    amount: fc.bigInt({ min: 1n, max: 100n * 10n ** 8n }).map(formatUnits),
    type: fc.constantFrom('accrual', 'earnings_update', 'verification'),
    spanMs: fc.integer({ min: 0, max: HOUR_MS }),
  }),
  { minLength: 1, maxLength: 5 },
);

test('Property 1: Database Schema Consistency - upgraded pre-fix rows (random NULLs, no budget anchor) answer first contact and random batches with 200 and a well-formed state', async () => {
  await fc.assert(
    fc.asyncProperty(
      fc.nat(LEGACY_USERS - 1),
      fc.stringMatching(/^[A-Za-z0-9_-]{1,64}$/),
      fc.integer({ min: 0, max: 10 * HOUR_MS }),
      batchArb,
      async (index, clientId, pauseMs, batch) => {
        const userId = LEGACY_ROWS[index].user_id;
        const first = await call(server.url, `/v1/state?clientId=${clientId}`, { auth: dev(userId) });
        assert.equal(first.status, 200, first.text);
        assertWellFormed(first.json.state, userId);

        const now = server.clock.advance(pauseMs);
        let to = now;
        const ops = batch
          .map(({ amount, type, spanMs }) => {
            const op = { amount, type, from: Math.max(to - spanMs, 0), to };
            to = op.from;
            return op;
          })
          .reverse()
          .map((op, i) => {
            const seq = first.json.state.lastSeq + 1 + i;
            return { id: `${clientId}:${seq}`, seq, rate: first.json.state.baseEarningRate, ...op };
          });
        const answer = await call(server.url, '/v1/sync', { method: 'POST', auth: dev(userId), body: { clientId, ops } });
        assert.equal(answer.status, 200, answer.text);
        assertWellFormed(answer.json.state, userId);
        assert.equal(answer.json.state.lastSeq, ops.at(-1).seq);
        assert.deepEqual(answer.json.results.map((r) => r.seq), ops.map((op) => op.seq));
        for (const result of answer.json.results) {
          assert.ok(OP_STATUSES.includes(result.status), result.status);
          assert.match(result.credited, AMOUNT);
          assert.match(result.review, AMOUNT);
        }

        const money = await ledger(database.db, userId);
        assert.equal(money.total_earned, money.audit_credits, 'total_earned == opening balance + audited credits');
        assert.equal(money.pending_review, money.pending_reviews, 'pending_review == pending queue');
      },
    ),
    { numRuns: RUNS, seed: 11 },
  );
});
