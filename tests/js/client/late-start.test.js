// The start's answer (initializeUser's GET /v1/state) that comes after the 5 s start timeout: it
// counts like a timely one (the catch-up judged, the status moved, events raised, the record
// stored) unless a request sent after it superseded it, in which case nothing of it is applied:
// neither over a sync answer already applied nor while a sync's answer is still on its way (its
// row may already hold that sync's ops, which the outbox still counts as owed). Virtual time; the
// held requests are released by the test, never by a timer.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createDevice, deviceThatMinedAndSynced } from '../support/harness.js';
import { toUnits } from '../support/fake-server.js';
import { recordKey } from '../../../js/storage/keys.js';

const RATE = '3.60000000'; // 0.001 TON per second: exactly 100 units per ms
const UNITS_PER_MS = 100n;
const HOUR = 3_600_000;

function collect(manager, types) {
  const seen = [];
  for (const type of types) manager.on(type, (event) => seen.push({ ...event, type }));
  return seen;
}

function counted(state) {
  return toUnits(state.currentEarnings) + toUnits(state.heldForVerification) + toUnits(state.underReview);
}

function deferred() {
  let release;
  const promise = new Promise((resolve) => { release = resolve; });
  return { promise, release };
}

// The device's requests, with the first GET /v1/state's answer held (the row the server read when
// asked, or with `readAtRelease` the one it holds at release) and, while `answers` is set, POST /v1/sync answers held after
// the server committed them. `startAnswered()` resolves once the client has read the start's
// answer and what that started on the user's queue (UserSession.run) has finished.
function holdRequests(device, { readAtRelease = false } = {}) {
  const start = deferred();
  const delivered = deferred();
  let states = 0;
  const control = {
    start,
    answers: null,
    session: null,
    asked: () => states > 0,
    async startAnswered() {
      await delivered.promise;
      // The transport and ServerRecovery go on in microtasks, all run before this turn ends; work
      // they put on the user's queue runs before work put there after it. (Not settled(): a sync
      // held by the test would keep it waiting.)
      await new Promise((resolve) => setImmediate(resolve));
      await control.session.run(async () => {});
    },
  };
  const answer = device.server.fetch;
  device.server.fetch = async (url, init) => {
    const { pathname } = new URL(url);
    if (pathname === '/v1/state' && (states += 1) === 1) {
      if (readAtRelease) await start.promise;
      const response = await answer(url, init);
      const text = await response.text();
      await start.promise;
      return {
        status: response.status,
        headers: response.headers,
        text: async () => {
          delivered.release();
          return text;
        },
      };
    }
    const response = await answer(url, init);
    const held = control.answers;
    if (held && pathname === '/v1/sync') await held.promise;
    return response;
  };
  return control;
}

// Starts initializeUser and lets its 5 s start timeout pass with the start's answer held.
async function startTimedOut(device, manager, userId, control) {
  const starting = manager.initializeUser(userId);
  // The user's session (its queue), kept past dispose.
  control.session = manager.sessions.get(userId);
  while (!control.asked()) await new Promise((resolve) => setImmediate(resolve));
  await device.time.advance(5_000);
  return starting;
}

// A device that mined 10 s and synced, then was closed `closedMs` while its clock moved an hour
// forward (the server's clock did not).
async function reopenedAfterClockMoved(userId, closedMs) {
  const { device, closedState } = await deviceThatMinedAndSynced(userId, RATE);
  const balance = counted(closedState);
  device.time.wallMs += closedMs + HOUR;
  const server = device.server.now;
  device.server.now = () => server() - HOUR;
  device.time.reload();
  return { device, balance };
}

test('a start answer after the timeout is applied like a timely one: the catch-up judged by the server clock, the status moved, events raised, stored', async () => {
  const { device, balance } = await reopenedAfterClockMoved(40, 60_000);
  // A server slow to answer: it reads its clock when it answers. (A row read when asked and
  // delivered 5 s later is judged as of then: the core subtracts all the session counted by mono
  // until the answer, so the delay is not counted, never counted twice.)
  const control = holdRequests(device, { readAtRelease: true });
  const { manager } = await device.openTab();
  const events = collect(manager, ['catch-up', 'clock-jump', 'unreachable', 'error']);
  const started = await startTimedOut(device, manager, 40, control);
  assert.equal(started.syncStatus, 'connecting');
  assert.equal(started.unconfirmed, '3.66000000', 'the device clock claims 1 h 60 s at 3.6 TON/h');
  assert.equal(counted(started) - balance, 5_000n * UNITS_PER_MS, 'only the 5 s waited, counted by mono');

  control.start.release();
  await control.startAnswered();
  const asked = device.server.log.length;
  const judged = manager.state(40);
  assert.equal(judged.syncStatus, 'pending', 'the core\'s own status: 5 s mined and owed');
  assert.equal(judged.unconfirmed, '0.00000000');
  assert.equal(counted(judged) - balance, 65_000n * UNITS_PER_MS, 'the 60 s closed by the server clock, plus the 5 s waited');
  const catchUps = events.filter((event) => event.type === 'catch-up');
  assert.equal(catchUps.length, 1);
  assert.deepEqual([catchUps[0].claimedMs, catchUps[0].confirmedMs, catchUps[0].refusedMs], [3_660_000, 60_000, HOUR]);
  assert.ok(events.some((event) => event.type === 'clock-jump' && event.kind === 'server_offset'));
  assert.ok(!events.some((event) => event.type === 'unreachable' || event.type === 'error'), JSON.stringify(events));

  // Judged once: the next sync does not ask for the row again and nothing is judged twice.
  const synced = await manager.syncToDatabase(40, true);
  assert.equal(synced.status, 'synced');
  assert.deepEqual(device.server.log.slice(asked).map((request) => request.path), ['/v1/sync']);
  assert.equal(events.filter((event) => event.type === 'catch-up').length, 1);
  assert.equal(toUnits(synced.state.syncedTotal), device.server.creditedUnits(40));
  assert.equal(counted(synced.state) - balance, 65_000n * UNITS_PER_MS);
  await manager.dispose();

  // The judged catch-up was stored: a reload offline shows nothing unconfirmed and keeps the 60 s.
  device.time.reload();
  device.fault = () => ({ kind: 'drop-request' });
  const { manager: reloaded } = await device.openTab();
  const restored = await reloaded.initializeUser(40);
  assert.equal(restored.unconfirmed, '0.00000000');
  assert.equal(counted(restored) - balance, 65_000n * UNITS_PER_MS);
  await reloaded.dispose();
});

test('a start answer that comes after a sync answer was applied is not applied over it: one catch-up, nothing counted twice', async () => {
  const { device, balance } = await reopenedAfterClockMoved(41, 60_000);
  const control = holdRequests(device);
  const { manager } = await device.openTab();
  const events = collect(manager, ['catch-up']);
  await startTimedOut(device, manager, 41, control);
  // The app syncs meanwhile: the sync asks for the row first (the catch-up is pending), which the
  // server answers at once, then sends the ops.
  const synced = await manager.syncToDatabase(41, true);
  assert.equal(synced.status, 'synced');
  assert.equal(events.length, 1);
  const after = manager.state(41);
  assert.equal(counted(after) - balance, 65_000n * UNITS_PER_MS);

  control.start.release();
  await control.startAnswered();
  assert.deepEqual(manager.state(41), after, 'the stale row changed nothing');
  assert.equal(events.length, 1, 'the catch-up was judged once');
  const again = await manager.syncToDatabase(41, true);
  assert.equal(toUnits(again.state.syncedTotal), device.server.creditedUnits(41));
  assert.equal(counted(again.state) - balance, 65_000n * UNITS_PER_MS);
  assert.deepEqual(manager.recovery.conflicts(41), []);
  await manager.dispose();
});

test('a start answer that comes while a later sync\'s answer is on its way is not applied: its row already holds that sync\'s ops', async () => {
  const device = await createDevice();
  const control = holdRequests(device, { readAtRelease: true });
  const { manager } = await device.openTab();
  const started = await startTimedOut(device, manager, 42, control);
  assert.equal(started.syncStatus, 'connecting');
  // The browser is offline: no sync timer runs, so the one sync below is the app's.
  device.lifecycle.emit('offline');
  await manager.setMining(42, { active: true, rate: RATE });
  await device.time.advance(10_000);
  // The sync's ops are credited by the server; its answer is held on the way back. The start's
  // row, read after that, holds them.
  control.answers = deferred();
  const syncing = manager.syncToDatabase(42, true);
  while (device.server.creditedUnits(42) === 0n) await new Promise((resolve) => setImmediate(resolve));
  const owed = manager.state(42);
  assert.equal(counted(owed), 10_000n * UNITS_PER_MS);

  control.start.release();
  await control.startAnswered();
  const meanwhile = manager.state(42);
  assert.equal(counted(meanwhile), 10_000n * UNITS_PER_MS, 'the ops in flight are not counted twice');
  assert.equal(meanwhile.syncStatus, 'connecting', 'the newer request tells the status');

  control.answers.release();
  const synced = await syncing;
  assert.equal(synced.status, 'synced');
  assert.equal(toUnits(synced.state.syncedTotal), device.server.creditedUnits(42));
  assert.equal(counted(synced.state), 10_000n * UNITS_PER_MS);
  assert.deepEqual(manager.recovery.conflicts(42), []);
  await manager.dispose();
});

test('a start answer after the timeout, with only local changes since: the server\'s row is adopted and the local earning kept', async () => {
  const device = await createDevice();
  device.server.user(43).credited = toUnits('1.5');
  const control = holdRequests(device);
  const { manager } = await device.openTab();
  const started = await startTimedOut(device, manager, 43, control);
  assert.equal(started.syncedTotal, '0.00000000');
  // Not mining, the 10 s give a tap room for 0.01 TON; the tap is not sent: time does not move
  // after it, so the sync timer it arms does not fire.
  await manager.setMining(43, { active: false, rate: RATE });
  await device.time.advance(10_000);
  await manager.updateEarnings(43, '0.00500000');
  assert.equal(device.server.log.filter((request) => request.path === '/v1/sync').length, 0);

  control.start.release();
  await control.startAnswered();
  const adopted = manager.state(43);
  assert.equal(adopted.syncedTotal, '1.50000000');
  assert.equal(adopted.currentEarnings, '1.50500000');
  assert.equal(adopted.syncStatus, 'pending');
  const synced = await manager.syncToDatabase(43, true);
  assert.equal(synced.state.syncedTotal, '1.50500000');
  assert.equal(device.server.creditedUnits(43), toUnits('1.505'));
  await manager.dispose();
});

test('a start answer that comes after dispose changes nothing and raises nothing', async () => {
  const device = await createDevice();
  const control = holdRequests(device);
  const { manager } = await device.openTab();
  const events = collect(manager, ['error', 'recovered']);
  await startTimedOut(device, manager, 44, control);
  await manager.dispose();
  control.start.release();
  await control.startAnswered();
  assert.deepEqual(events, []);
});

// A device whose record of `userId` (mined 10 s, synced) was deleted while its client id stayed,
// started again with the start's answer held past the timeout: storage-lost, not recovered.
async function recordLostStartedLate(userId) {
  const { device } = await deviceThatMinedAndSynced(userId, RATE);
  const { manager: cleaner } = await device.openTab();
  await cleaner.store.delete(recordKey(userId));
  await cleaner.dispose();
  const control = holdRequests(device);
  const { manager } = await device.openTab();
  const events = collect(manager, ['storage-lost', 'recovered']);
  await startTimedOut(device, manager, userId, control);
  assert.deepEqual(events.map((event) => [event.type, event.recovered]), [['storage-lost', false]]);
  return { manager, control, events, credited: device.server.creditedUnits(userId) };
}

test('a lost record whose start answer comes after the timeout: storage-lost says not recovered, and the late row, once applied, raises recovered with after: storage-lost', async () => {
  const { manager, control, events, credited } = await recordLostStartedLate(45);
  control.start.release();
  await control.startAnswered();
  assert.deepEqual(events.map((event) => event.type), ['storage-lost', 'recovered']);
  assert.deepEqual([events[1].userId, events[1].after, toUnits(events[1].total)], [45, 'storage-lost', credited]);
  assert.equal(toUnits(manager.state(45).syncedTotal), credited);
  await manager.dispose();
});

test('a lost record whose late start answer a sync superseded: the sync\'s recovery is told, once, and the stale answer adds nothing', async () => {
  const { manager, control, events, credited } = await recordLostStartedLate(46);
  const synced = await manager.syncToDatabase(46, true);
  assert.equal(synced.status, 'synced');
  assert.deepEqual(events.map((event) => [event.type, event.after]), [['storage-lost', undefined], ['recovered', 'storage-lost']]);
  assert.equal(toUnits(events[1].total), credited);

  control.start.release();
  await control.startAnswered();
  assert.equal(events.length, 2);
  await manager.dispose();
});
