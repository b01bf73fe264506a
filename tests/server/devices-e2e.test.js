// One user on two devices, end to end: two real clients (createEarningsManager on the wasm core,
// the real fetch transport, their sync timers) against this server, on one virtual clock that is
// also the server's. The device that does not hold the user's mining lease stops accruing while
// the other mines (`mining-elsewhere`), resumes when the lease is given up (`mining-resumed`),
// time both claimed is refused as counted on another device (never reviewed), and both devices
// end on the server's balance.
import assert from 'node:assert/strict';
import { test } from 'node:test';

import { createEarningsManager } from '../../js/index.js';
import { MemoryStore } from '../../js/storage/memory.js';
import { createFetchTransport, devAuth } from '../../js/transport.js';
import { FakeTime } from '../js/support/fake-time.js';
import { HOUR_MS, START_MS, clientCore, databaseFixture, ledger, startTestServer, units } from './helpers.js';

const fixture = databaseFixture();
const MINUTE = 60_000;
const LEASE_MS = 150_000;

// What a server of the previous release (main at 7d6af1b) accepts in a sync request; its core's
// parse_sync_request (src/credit.cpp) refuses any other member as REQUEST_INVALID, for good, so a
// client upgraded before its server must send nothing else. Copied from that commit's parser:
// the request's members, an op's members (parse_op's kKeys) and the lease intents.
const PREVIOUS_RELEASE_REQUEST_MEMBERS = ['clientId', 'ops', 'lease'];
const PREVIOUS_RELEASE_OP_MEMBERS = ['id', 'seq', 'type', 'amount', 'from', 'to', 'rate'];
const PREVIOUS_RELEASE_LEASE_INTENTS = ['hold', 'take', 'release'];

async function openDevice(time, server, name) {
  // Every sync request the device sends, as sent.
  const syncRequests = [];
  const recordingFetch = (url, init) => {
    if (new URL(url).pathname === '/v1/sync') syncRequests.push(JSON.parse(init.body));
    return fetch(url, init);
  };
  const manager = await createEarningsManager({
    core: await clientCore(),
    storage: new MemoryStore(),
    transport: createFetchTransport({ endpoint: server.url, auth: devAuth(), fetch: recordingFetch }),
    clock: time.clock,
    timers: time.group(),
    lifecycle: { isOnline: () => true, on: () => () => {} },
    telegram: null,
    tabs: null,
    seed: name === 'phone' ? 1 : 2,
  });
  const events = [];
  for (const type of ['mining-elsewhere', 'mining-resumed', 'rejected', 'review-needed', 'conflict']) {
    manager.on(type, (event) => events.push({ type, ...event }));
  }
  return { manager, events, syncRequests, of: (type) => events.filter((event) => event.type === type) };
}

// Each request holds only what the previous release's server accepts, and `lease`, which tells
// this server the client reads per-op `refused` (server/sync-service.js, resultsFor).
function assertPreviousReleaseAccepts(requests) {
  for (const request of requests) {
    const members = Object.keys(request);
    assert.ok(members.every((member) => PREVIOUS_RELEASE_REQUEST_MEMBERS.includes(member)), JSON.stringify(members));
    assert.ok(PREVIOUS_RELEASE_LEASE_INTENTS.includes(request.lease), `lease ${JSON.stringify(request.lease)}`);
    for (const op of request.ops) {
      const opMembers = Object.keys(op);
      assert.ok(opMembers.every((member) => PREVIOUS_RELEASE_OP_MEMBERS.includes(member)), JSON.stringify(opMembers));
    }
  }
}

test('two devices of one user: the non-holder stops accruing, time counted twice is refused not reviewed, both show the server balance, every sync request one a server of the previous release accepts', async () => {
  const time = new FakeTime({ wall: START_MS });
  const server = await startTestServer(fixture.database.db, {
    clock: { now: () => time.clock.wall() },
    config: { miningLeaseMs: LEASE_MS },
  });
  const userId = 5_200_001;
  const desk = await openDevice(time, server, 'desk');
  const phone = await openDevice(time, server, 'phone');
  try {
    await desk.manager.initializeUser(userId);
    await phone.manager.initializeUser(userId);
    // The user starts mining on the desktop, then, ten seconds later, on the phone: the phone's
    // explicit start takes the lease over.
    await desk.manager.setMining(userId, { active: true, rate: '1.00000000' });
    await desk.manager.syncToDatabase(userId, true);
    await time.advance(10_000);
    await phone.manager.setMining(userId, { active: true, rate: '1.00000000' });
    await phone.manager.syncToDatabase(userId, true);

    // The desktop's next timed sync (a minute after its last) brings its minute and the news.
    await time.advance(MINUTE);
    assert.equal(desk.of('mining-elsewhere').length, 1, JSON.stringify(desk.events));
    const [elsewhere] = desk.of('mining-elsewhere');
    const [row] = await fixture.database.db.query('SELECT mining_lease_client FROM user_earnings WHERE user_id = $1', [userId]);
    assert.equal(elsewhere.clientId, row.mining_lease_client, 'the event names the phone, which holds the lease');
    assert.ok(elsewhere.until > time.clock.wall());
    assert.equal(desk.manager.state(userId).isActive, false, 'the desktop stopped accruing');

    // A few minutes on: the desktop's balance does not move while the phone mines.
    const pausedAt = desk.manager.state(userId).currentEarnings;
    await time.advance(4 * MINUTE);
    await desk.manager.syncToDatabase(userId, true);
    await phone.manager.syncToDatabase(userId, true);
    await desk.manager.syncToDatabase(userId, true);
    const money = await ledger(fixture.database.db, userId);
    const deskState = desk.manager.state(userId);
    const phoneState = phone.manager.state(userId);
    assert.equal(deskState.syncedTotal, money.total_earned, 'the desktop shows the server balance');
    assert.equal(phoneState.syncedTotal, money.total_earned, 'the phone shows the server balance');
    assert.equal(deskState.currentEarnings, phoneState.currentEarnings, 'both devices show the same balance');
    assert.equal(units(deskState.currentEarnings) >= units(pausedAt), true);
    assert.equal(deskState.pending, '0.00000000', 'nothing accrued on the desktop while paused');

    // Time both devices claimed was refused as counted on another device, never queued.
    assert.equal(money.pending_review, '0.00000000');
    assert.equal(desk.of('review-needed').length + phone.of('review-needed').length, 0);
    assert.equal(desk.of('conflict').length + phone.of('conflict').length, 0);
    const refused = [...desk.of('rejected'), ...phone.of('rejected')];
    assert.ok(refused.length >= 1, 'the overlap was refused');
    assert.ok(refused.every((event) => event.code === 'COUNTED_ON_ANOTHER_DEVICE'));
    const refusedTotal = units(deskState.rejectedTotal) + units(phoneState.rejectedTotal);
    assert.equal(refusedTotal, refused.reduce((sum, event) => sum + units(event.amount), 0n));
    // Bound: the user earned at most the rate over the wall time, whatever two devices claimed.
    assert.ok(units(money.total_earned) <= (100_000_000n * BigInt(time.clock.wall() - START_MS + MINUTE)) / BigInt(HOUR_MS));

    // The user stops mining on the phone: its release frees the lease and the desktop, waiting
    // for it, takes it at its next sync and mines again.
    await phone.manager.setMining(userId, { active: false });
    await phone.manager.syncToDatabase(userId, true);
    await time.advance(LEASE_MS);
    assert.equal(desk.of('mining-resumed').length, 1, JSON.stringify(desk.events));
    assert.equal(desk.manager.state(userId).isActive, true);
    const resumedAt = units(desk.manager.state(userId).currentEarnings);
    await time.advance(MINUTE);
    assert.ok(units(desk.manager.state(userId).currentEarnings) > resumedAt, 'the desktop accrues again');

    // Every request both devices sent (ops or none; take, hold and release) is one a server of the
    // previous release accepts: a frontend may upgrade before its server.
    const requests = [...desk.syncRequests, ...phone.syncRequests];
    const intents = new Set(requests.map((request) => request.lease));
    assert.deepEqual([...intents].sort(), ['hold', 'release', 'take'], 'each intent was sent');
    assert.ok(requests.some((request) => request.ops.length > 0) && requests.some((request) => request.ops.length === 0));
    assertPreviousReleaseAccepts(requests);
  } finally {
    await desk.manager.dispose();
    await phone.manager.dispose();
    await server.close();
  }
});
