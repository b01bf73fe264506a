// One user, two devices (issue 12 part 7): time one client id of a user was already paid for is
// refused to another client id as COUNTED_ON_ANOTHER_DEVICE (audited, never queued for review),
// a claim beyond what the rate allows one device still goes to review, and the user's mining
// lease is granted, renewed, lapses and is taken over by the server's clock, by one server
// process at a time. A client from before the lease (no `lease` in its requests, which it shares
// with per-op `refused`) is answered in a shape it reads without a conflict. Property 28 (two
// devices' random interleavings, clients of either kind): bound, no review, every refusal visible
// with its reason.
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';

import fc from 'fast-check';

import { openDatabase } from '../../server/db.js';
import {
  HOUR_MS,
  START_MS,
  accrualOp,
  call,
  clientCore,
  dev,
  formatUnits,
  ledger,
  onRealPostgres,
  serverFixture,
  startTestServer,
  testPooler,
  units,
} from './helpers.js';

const LEASE_MS = 150_000;
const fixture = serverFixture({ config: { miningLeaseMs: LEASE_MS } });
const { state } = fixture;
// Today's client sends `lease` on every sync, which tells the server it reads per-op `refused`;
// clients from before the lease send {clientId, ops} (oldSync).
const sync = (userId, body) => fixture.sync(userId, { lease: 'hold', ...body });
const oldSync = (userId, body) => fixture.sync(userId, body);
let nextUser = 70_000;
const newUser = () => (nextUser += 1);

const MINUTE = 60_000;
const RATE_UNITS = 100_000_000n; // 1 TON/h
// What `ms` of mining earns at 1 TON/h, rounded down, as the engine claims it.
const worth = (ms) => formatUnits((RATE_UNITS * BigInt(ms)) / BigInt(HOUR_MS));

async function conserved(userId) {
  const money = await ledger(fixture.database.db, userId);
  assert.equal(money.total_earned, money.audit_credits, 'total_earned equals the audit log');
  assert.equal(money.total_earned, money.credited_ops, 'total_earned equals credited ops');
  assert.equal(money.pending_review, money.pending_reviews, 'pending_review equals the pending queue');
  return money;
}

async function pendingReviews(userId) {
  const [row] = await fixture.database.db.query('SELECT COUNT(*)::int AS n FROM earnings_review_queue WHERE user_id = $1', [userId]);
  return row.n;
}

async function refusalAudit(userId) {
  return fixture.database.db.query(
    `SELECT op_id, metadata FROM earnings_audit_log
     WHERE user_id = $1 AND operation_type = 'op_rejected' ORDER BY id`,
    [userId],
  );
}

describe('time counted on another device', () => {
  test('the second client id claiming the same minute is refused with its own reason, audited with both ids, nothing reviewed', async () => {
    const userId = newUser();
    fixture.server.clock.set(START_MS);
    await state(userId, 'phone');
    fixture.server.clock.advance(MINUTE);
    const phone = await sync(userId, { clientId: 'phone', ops: [accrualOp('phone', 1, worth(MINUTE))] });
    assert.equal(phone.json.results[0].status, 'applied');
    assert.equal(phone.json.results[0].credited, worth(MINUTE));

    const desk = await sync(userId, { clientId: 'desk', ops: [accrualOp('desk', 1, worth(MINUTE))] });
    assert.equal(desk.status, 200);
    const [result] = desk.json.results;
    assert.equal(result.status, 'rejected');
    assert.equal(result.code, 'COUNTED_ON_ANOTHER_DEVICE');
    assert.match(result.reason, /already counted on another device/);
    assert.equal(result.refused, worth(MINUTE));
    assert.equal(result.credited, '0.00000000');
    assert.equal(result.review, '0.00000000');
    assert.equal(desk.json.state.totalEarned, worth(MINUTE), 'both devices are told the same balance');
    assert.equal(desk.json.state.pendingReview, '0.00000000');
    assert.equal(desk.json.state.syncStatus, 'synced', 'a refusal of counted time is not a failed sync');

    assert.equal(await pendingReviews(userId), 0);
    const audit = await refusalAudit(userId);
    assert.equal(audit.length, 1);
    assert.equal(audit[0].op_id, 'desk:1');
    assert.equal(audit[0].metadata.code, 'COUNTED_ON_ANOTHER_DEVICE');
    assert.equal(audit[0].metadata.countedOn, 'phone');
    assert.equal(audit[0].metadata.amount, worth(MINUTE));
    await conserved(userId);

    // Resent (its answer was lost): the same answer, nothing written twice.
    const again = await sync(userId, { clientId: 'desk', ops: [accrualOp('desk', 1, worth(MINUTE))] });
    assert.equal(again.json.results[0].status, 'duplicate');
    assert.equal(again.json.results[0].refused, worth(MINUTE));
    assert.equal(again.json.results[0].code, 'COUNTED_ON_ANOTHER_DEVICE');
    assert.equal((await refusalAudit(userId)).length, 1);
  });

  test('an op partly over paid time: the paid part refused, the rest credited, nothing reviewed', async () => {
    const userId = newUser();
    fixture.server.clock.set(START_MS);
    await state(userId, 'phone');
    fixture.server.clock.advance(2 * MINUTE);
    await sync(userId, { clientId: 'phone', ops: [accrualOp('phone', 1, worth(2 * MINUTE), { to: START_MS + 2 * MINUTE })] });
    fixture.server.clock.advance(2 * MINUTE);
    // The desktop mined the four minutes; the phone was paid for the first two.
    const desk = await sync(userId, {
      clientId: 'desk',
      ops: [accrualOp('desk', 1, worth(4 * MINUTE), { to: START_MS + 4 * MINUTE })],
    });
    const [result] = desk.json.results;
    assert.equal(result.status, 'applied');
    assert.equal(result.refused, worth(2 * MINUTE));
    assert.equal(result.code, 'COUNTED_ON_ANOTHER_DEVICE');
    assert.equal(units(result.credited) + units(result.refused), units(worth(4 * MINUTE)));
    assert.equal(result.review, '0.00000000');
    assert.equal(desk.json.state.totalEarned, formatUnits(units(worth(2 * MINUTE)) + units(result.credited)));
    assert.equal(await pendingReviews(userId), 0);
    await conserved(userId);
  });

  test('a claim beyond what the rate allows one device still goes to review, beside what is counted elsewhere', async () => {
    const userId = newUser();
    fixture.server.clock.set(START_MS);
    await state(userId, 'phone');
    fixture.server.clock.advance(MINUTE);
    await sync(userId, { clientId: 'phone', ops: [accrualOp('phone', 1, worth(MINUTE))] });
    // One device alone claiming an hour after a minute: review, as before devices were told apart.
    const alone = await sync(userId, {
      clientId: 'phone',
      ops: [accrualOp('phone', 2, '1.00000000', { from: START_MS + MINUTE, to: START_MS + HOUR_MS })],
    });
    assert.equal(alone.json.results[0].code, undefined);
    assert.ok(units(alone.json.results[0].review) > 0n, 'the excess of a lone device is reviewed');
    // Another device claiming ten times its minute: the shared minute refused, the excess reviewed.
    const greedy = await sync(userId, { clientId: 'desk', ops: [accrualOp('desk', 1, '0.16666666')] });
    const [result] = greedy.json.results;
    assert.equal(result.refused, worth(MINUTE));
    assert.ok(units(result.review) > 0n);
    assert.equal(units(result.credited) + units(result.review) + units(result.refused), units('0.16666666'));
    const [item] = await fixture.database.db.query(
      "SELECT reason, context FROM earnings_review_queue WHERE user_id = $1 AND op_id = 'desk:1'",
      [userId],
    );
    assert.equal(item.reason, 'exceeds_budget');
    assert.equal(item.context.refused, worth(MINUTE), 'the reviewer sees what was counted elsewhere');
    await conserved(userId);
  });
});

// A client from before the lease and per-op `refused` (it sends no `lease`) reads an op's
// answer as applied (credited + review = the amount), review, rejected (all of it) or duplicate
// (credited + review at most the amount); anything else is a conflict to it. The engine below
// stands for it: its request is the core's own {clientId, ops}, as clients before the lease sent
// it, and an answer without `refused` goes through the same checks in today's core as in
// theirs (src/outbox.cpp reads `refused` only when it is there).
describe('a client from before the lease', () => {
  const desk = async (userId, wall) => {
    const core = await clientCore();
    const engine = core.createEngine({ userId, clientId: 'desk', seed: 1 });
    const read = await state(userId, 'desk');
    engine.recoverFromServer(read.text, { wall, mono: 0 });
    engine.setActive(true, { wall, mono: 0 });
    return engine;
  };

  test('an op partly counted on another device is answered duplicate with what was credited: no conflict, the balance is the server\'s, nothing lost or counted twice', async () => {
    const userId = newUser();
    fixture.server.clock.set(START_MS);
    const engine = await desk(userId, START_MS);
    try {
      // The phone was paid for the first two minutes; the desktop mined all four.
      fixture.server.clock.set(START_MS + 2 * MINUTE);
      await sync(userId, { clientId: 'phone', ops: [accrualOp('phone', 1, worth(2 * MINUTE), { to: START_MS + 2 * MINUTE })] });
      fixture.server.clock.set(START_MS + 4 * MINUTE);
      const now = { wall: START_MS + 4 * MINUTE, mono: 4 * MINUTE };
      const request = engine.nextSyncRequest(now, { force: true });
      assert.deepEqual(Object.keys(request).sort(), ['clientId', 'ops'], 'the request of a client from before the lease');
      const [op] = request.ops;
      assert.equal(op.amount, worth(4 * MINUTE));
      const answer = await oldSync(userId, request);
      assert.equal(answer.status, 200);
      const [result] = answer.json.results;
      assert.deepEqual(Object.keys(result).sort(), ['credited', 'id', 'review', 'seq', 'status']);
      assert.equal(result.status, 'duplicate');
      assert.equal(result.review, '0.00000000');
      assert.ok(units(result.credited) > 0n && units(result.credited) < units(op.amount));

      // The server keeps the truth: applied, the rest refused as counted on the phone, audited.
      const [stored] = await fixture.database.db.query(
        "SELECT status, credited::text, refused::text, code FROM sync_op_results WHERE user_id = $1 AND client_id = 'desk'",
        [userId],
      );
      assert.deepEqual(stored, {
        status: 'applied',
        credited: result.credited,
        refused: formatUnits(units(op.amount) - units(result.credited)),
        code: 'COUNTED_ON_ANOTHER_DEVICE',
      });
      const audit = await refusalAudit(userId);
      assert.equal(audit.length, 1);
      assert.equal(audit[0].metadata.amount, stored.refused);
      const money = await conserved(userId);
      assert.equal(money.total_earned, formatUnits(units(worth(2 * MINUTE)) + units(result.credited)));
      assert.equal(await pendingReviews(userId), 0);

      const { events } = engine.applySyncResponse(answer.text, now);
      assert.deepEqual(events.filter((event) => event.type === 'conflict'), [], 'no conflict');
      const after = engine.state();
      assert.equal(after.reviewFlag, false);
      assert.deepEqual(engine.conflicts(), []);
      assert.equal(after.syncedTotal, money.total_earned, 'the balance is the server\'s');
      assert.equal(after.currentEarnings, money.total_earned, 'nothing left pending, nothing counted twice');
      assert.equal(after.underReview, '0.00000000');

      // Its answer lost, the client resends the op: the same answer, nothing written twice.
      const again = await oldSync(userId, request);
      assert.deepEqual(again.json.results, answer.json.results);
      assert.equal((await refusalAudit(userId)).length, 1);
      // Today's client resending it (with `lease`) reads the refused part.
      const today = await sync(userId, request);
      assert.equal(today.json.results[0].refused, stored.refused);
    } finally {
      engine.dispose();
    }
  });

  test('an op wholly counted on another device is rejected with its code, which a client from before the lease reads as a rejection', async () => {
    const userId = newUser();
    fixture.server.clock.set(START_MS);
    const engine = await desk(userId, START_MS);
    try {
      fixture.server.clock.set(START_MS + MINUTE);
      await sync(userId, { clientId: 'phone', ops: [accrualOp('phone', 1, worth(MINUTE))] });
      const now = { wall: START_MS + MINUTE, mono: MINUTE };
      const request = engine.nextSyncRequest(now, { force: true });
      const answer = await oldSync(userId, request);
      const [result] = answer.json.results;
      assert.equal(result.status, 'rejected');
      assert.equal(result.code, 'COUNTED_ON_ANOTHER_DEVICE');
      assert.equal(result.refused, undefined, 'a member that client does not know');
      const { events } = engine.applySyncResponse(answer.text, now);
      assert.deepEqual(events.filter((event) => event.type === 'conflict'), []);
      assert.equal(engine.state().rejectedTotal, request.ops[0].amount);
      assert.equal(engine.state().currentEarnings, worth(MINUTE));
    } finally {
      engine.dispose();
    }
  });

});

describe('the mining lease', () => {
  const hold = (userId, clientId, lease, ops = []) => sync(userId, { clientId, ops, lease });

  test('granted to the first device that mines, renewed by its syncs, refused to another until it lapses by the server clock', async () => {
    const userId = newUser();
    fixture.server.clock.set(START_MS);
    const first = await hold(userId, 'phone', 'hold');
    assert.deepEqual(first.json.lease, { held: true, clientId: 'phone', until: START_MS + LEASE_MS });
    const [{ n }] = await fixture.database.db.query('SELECT COUNT(*)::int AS n FROM sync_client_sequences WHERE user_id = $1', [userId]);
    assert.equal(n, 0, 'a lease-only sync opens no client sequence (the client-id cap counts them)');

    fixture.server.clock.advance(MINUTE);
    const other = await hold(userId, 'desk', 'hold');
    assert.deepEqual(other.json.lease, { held: false, clientId: 'phone', until: START_MS + LEASE_MS });
    const read = await state(userId, 'desk');
    assert.deepEqual(read.json.lease, { held: false, clientId: 'phone', until: START_MS + LEASE_MS });

    const renewed = await hold(userId, 'phone', 'hold');
    assert.deepEqual(renewed.json.lease, { held: true, clientId: 'phone', until: START_MS + MINUTE + LEASE_MS });

    // Just before it lapses the desktop still waits; at its end the lease is free.
    fixture.server.clock.set(START_MS + MINUTE + LEASE_MS - 1);
    assert.equal((await hold(userId, 'desk', 'hold')).json.lease.held, false);
    fixture.server.clock.set(START_MS + MINUTE + LEASE_MS);
    const taken = await hold(userId, 'desk', 'hold');
    assert.deepEqual(taken.json.lease, { held: true, clientId: 'desk', until: START_MS + MINUTE + 2 * LEASE_MS });
    assert.equal((await hold(userId, 'phone', 'hold')).json.lease.held, false);
  });

  test('taken over when the user starts mining on another device; released when mining stops', async () => {
    const userId = newUser();
    fixture.server.clock.set(START_MS);
    await hold(userId, 'phone', 'hold');
    fixture.server.clock.advance(1000);
    const take = await hold(userId, 'desk', 'take');
    assert.deepEqual(take.json.lease, { held: true, clientId: 'desk', until: START_MS + 1000 + LEASE_MS });
    const phone = await hold(userId, 'phone', 'hold');
    assert.deepEqual(phone.json.lease, { held: false, clientId: 'desk', until: START_MS + 1000 + LEASE_MS });
    // Releasing a lease held elsewhere changes nothing; the holder's release frees it at once.
    assert.equal((await hold(userId, 'phone', 'release')).json.lease.clientId, 'desk');
    assert.deepEqual((await hold(userId, 'desk', 'release')).json.lease, { held: false, clientId: null, until: null });
    assert.equal((await hold(userId, 'phone', 'hold')).json.lease.held, true);
  });

  test('a client that predates the lease holds it by syncing ops and is answered as before; a bad intent is refused', async () => {
    const userId = newUser();
    fixture.server.clock.set(START_MS);
    await state(userId, 'old');
    fixture.server.clock.advance(MINUTE);
    const old = await oldSync(userId, { clientId: 'old', ops: [accrualOp('old', 1, worth(MINUTE))] });
    assert.equal(old.json.results[0].status, 'applied');
    assert.equal(old.json.lease.clientId, 'old');
    // A read-only sync of an old client (nothing new) neither takes nor gives up the lease.
    const newer = await hold(userId, 'new', 'hold');
    assert.equal(newer.json.lease.held, false);
    const refused = await sync(userId, { clientId: 'new', ops: [], lease: 'grab' });
    assert.equal(refused.status, 400);
    assert.equal(refused.json.error.code, 'REQUEST_INVALID');
  });

  test('two server processes racing for a free lease never both grant it', async () => {
    // A second server over its own connections to the same database: its own row cache and
    // commit groups, as a second process has. On PGlite both share the one embedded connection.
    const secondDb = onRealPostgres ? await openDatabase({ databaseUrl: fixture.database.url, poolSize: 5, pooler: testPooler }) : fixture.database.db;
    const second = await startTestServer(secondDb, { clock: fixture.server.clock, config: { miningLeaseMs: LEASE_MS } });
    try {
      fixture.server.clock.set(START_MS + 10 * HOUR_MS);
      const users = Array.from({ length: 12 }, () => newUser());
      for (const userId of users) await state(userId, 'a');
      const answers = await Promise.all(
        users.flatMap((userId) => [
          call(fixture.server.url, '/v1/sync', { method: 'POST', auth: dev(userId), body: { clientId: 'a', ops: [], lease: 'hold' } }),
          call(second.url, '/v1/sync', { method: 'POST', auth: dev(userId), body: { clientId: 'b', ops: [], lease: 'hold' } }),
        ]),
      );
      for (const [i, userId] of users.entries()) {
        const [a, b] = [answers[2 * i].json.lease, answers[2 * i + 1].json.lease];
        assert.equal(Number(a.held) + Number(b.held), 1, `user ${userId}: exactly one device holds the lease`);
        const holder = a.held ? 'a' : 'b';
        assert.equal(a.clientId, holder);
        assert.equal(b.clientId, holder);
        const [row] = await fixture.database.db.query('SELECT mining_lease_client FROM user_earnings WHERE user_id = $1', [userId]);
        assert.equal(row.mining_lease_client, holder);
      }
    } finally {
      await second.close();
      if (secondDb !== fixture.database.db) await secondDb.close();
    }
  });
});

// Two honest devices of one user mining the whole time, syncing in a random order at random
// moments, each claiming exactly its own accrual since its last sync (as the engine does, on the
// server's clock). A device's claim may lag the moment it is sent (latency).
const interleaving = fc.array(
  fc.record({
    device: fc.constantFrom('phone', 'desk'),
    // Whether the syncing client is today's (sends `lease`, reads per-op `refused`) or predates both.
    beforeLease: fc.boolean(),
    advanceMs: fc.integer({ min: 1, max: 5 * MINUTE }),
    lagMs: fc.integer({ min: 0, max: 2000 }),
  }),
  { minLength: 1, maxLength: 8 },
);

// What the client reads as refused of `amount` in `result`, checking that the result is one it
// reads without a conflict (see 'a client from before the lease').
function refusedAsRead(beforeLease, result, amount) {
  if (!beforeLease) {
    const refused = units(result.refused ?? '0');
    if (refused > 0n) assert.equal(result.code, 'COUNTED_ON_ANOTHER_DEVICE');
    return refused;
  }
  assert.equal(result.refused, undefined, 'a client from before the lease reads no per-op refused');
  const settled = units(result.credited) + units(result.review);
  if (result.status === 'applied') assert.equal(settled, units(amount));
  else if (result.status === 'duplicate') assert.ok(settled <= units(amount));
  else assert.deepEqual([result.status, result.code], ['rejected', 'COUNTED_ON_ANOTHER_DEVICE']);
  return units(amount) - settled;
}

test('Property 28: two devices syncing in any interleaving, clients from before the lease or of today: credited never exceeds rate x wall time, nothing reviewed, every refusal shown with its reason, no answer a client reads as a conflict', async () => {
  await fc.assert(
    fc.asyncProperty(interleaving, async (steps) => {
      const userId = newUser();
      fixture.server.clock.set(START_MS);
      await state(userId, 'phone');
      const claimedTo = { phone: START_MS, desk: START_MS };
      const seq = { phone: 0, desk: 0 };
      let now = START_MS;
      let claimed = 0n;
      let credited = 0n;
      let refused = 0n;
      for (const { device, beforeLease, advanceMs, lagMs } of steps) {
        now += advanceMs;
        fixture.server.clock.set(now);
        const to = Math.max(claimedTo[device], now - lagMs);
        if (to === claimedTo[device]) continue;
        const amount = worth(to - claimedTo[device]);
        if (units(amount) === 0n) continue;
        seq[device] += 1;
        const op = accrualOp(device, seq[device], amount, { from: claimedTo[device], to });
        claimedTo[device] = to;
        const answer = await (beforeLease ? oldSync : sync)(userId, { clientId: device, ops: [op] });
        assert.equal(answer.status, 200);
        const [result] = answer.json.results;
        assert.equal(result.review, '0.00000000', 'honest two-device use queues nothing for review');
        const refusedHere = refusedAsRead(beforeLease, result, amount);
        assert.equal(units(result.credited) + refusedHere, units(amount), 'every claimed unit is credited or refused');
        claimed += units(amount);
        credited += units(result.credited);
        refused += refusedHere;
        // Bound: never more than the rate over the server's wall time since first contact (plus
        // the tolerance a single device may borrow).
        assert.ok(units(answer.json.state.totalEarned) <= (RATE_UNITS * BigInt(now - START_MS + 60_000)) / BigInt(HOUR_MS));
      }
      const money = await conserved(userId);
      assert.equal(units(money.total_earned), credited);
      assert.equal(await pendingReviews(userId), 0);
      const audit = await refusalAudit(userId);
      const audited = audit.reduce((sum, row) => sum + units(row.metadata.amount), 0n);
      assert.equal(audited, refused, 'every refused amount is in the audit log with its reason');
      assert.ok(audit.every((row) => row.metadata.code === 'COUNTED_ON_ANOTHER_DEVICE'));
      assert.equal(credited + refused, claimed);
    }),
    { numRuns: 100, seed: 20261203 },
  );
});
