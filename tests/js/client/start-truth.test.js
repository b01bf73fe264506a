// What the manager says at start and after: nothing is `synced` before this page session had an
// answer from the sync server; unreachable, unauthorized and refused are told apart (state and
// events); a record that vanished while the client id stayed is `storage-lost`, not a new user;
// a device clock moved forward while the app was closed is judged by the server's clock.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createDevice, deviceThatMinedAndSynced, ENDPOINT } from '../support/harness.js';
import { toUnits } from '../support/fake-server.js';
import { IDBKeyRange } from 'fake-indexeddb';
import { clientKey, recordKey } from '../../../js/storage/keys.js';
import { IndexedDbStore } from '../../../js/storage/indexeddb.js';

const RATE = '3.60000000'; // 0.001 TON per second

function collect(manager, types) {
  const seen = [];
  for (const type of types) manager.on(type, (event) => seen.push({ ...event, type }));
  return seen;
}

const ANSWERS = {
  'server down': { fault: { kind: 'drop-request' }, status: 'unreachable', httpStatus: 0 },
  'wrong endpoint': { fault: { kind: 'fail', status: 404, body: '<html><h1>404 Not Found</h1></html>' }, status: 'unreachable', httpStatus: 404 },
  'no auth': { fault: { kind: 'fail', status: 401, body: { error: { code: 'AUTH_REQUIRED', message: 'Authorization header missing' } } }, status: 'unauthorized', httpStatus: 401 },
  'bad initData': { fault: { kind: 'fail', status: 401, body: { error: { code: 'AUTH_INVALID', message: 'initData signature mismatch' } } }, status: 'unauthorized', httpStatus: 401 },
};

for (const [name, { fault, status, httpStatus }] of Object.entries(ANSWERS)) {
  for (const restored of [false, true]) {
    test(`${name}, ${restored ? 'restored record' : 'new user'}: initializeUser says ${status}, never synced, and raises ${status}`, async () => {
      const device = restored ? (await deviceThatMinedAndSynced(7, RATE)).device : await createDevice();
      device.fault = () => fault;
      const { manager } = await device.openTab();
      const events = collect(manager, ['unreachable', 'unauthorized', 'refused', 'error']);
      const state = await manager.initializeUser(7);
      assert.equal(state.syncStatus, status);
      const told = events.find((event) => event.type === status);
      assert.ok(told, `a ${status} event`);
      assert.equal(told.httpStatus, httpStatus);
      assert.equal(told.endpoint, `${ENDPOINT}/v1/state?clientId=${encodeURIComponent(told.endpoint.split('clientId=')[1])}`);
      assert.ok(events.some((event) => event.type === 'error' && event.source === 'sync' && event.httpStatus === httpStatus));
      // Mining goes on; the status stays the truth until the server answers.
      await manager.setMining(7, { active: true, rate: RATE });
      await device.time.advance(5_000);
      assert.equal(manager.state(7).syncStatus, status);
      assert.equal((await manager.syncToDatabase(7, true)).state.syncStatus, status);
      device.fault = () => null;
      const synced = await manager.syncToDatabase(7, true);
      assert.equal(synced.status, 'synced');
      assert.equal(manager.state(7).syncStatus, 'synced');
      assert.equal(units(manager.state(7).syncedTotal), device.server.creditedUnits(7));
      await manager.dispose();
    });
  }
}

test('a static host whose page fallback answers 200 with HTML for the sync paths: unreachable, the ops kept, and the error says the answer is not the sync protocol', async () => {
  const device = await createDevice();
  const page = '<!doctype html><html><body><div id="app"></div></body></html>';
  device.fault = () => ({ kind: 'fail', status: 200, body: page });
  const { manager } = await device.openTab();
  const events = collect(manager, ['unreachable', 'error']);
  const state = await manager.initializeUser(14);
  assert.equal(state.syncStatus, 'unreachable');
  await manager.setMining(14, { active: true, rate: RATE });
  await device.time.advance(10_000);
  const result = await manager.syncToDatabase(14, true);
  assert.equal(result.status, 'failed');
  assert.equal(result.state.syncStatus, 'unreachable');
  assert.equal(result.state.rejectedTotal, '0.00000000');
  assert.equal(result.state.pending, result.state.currentEarnings);
  assert.ok(units(result.state.pending) > 0n);
  const errors = events.filter((event) => event.type === 'error');
  assert.deepEqual(errors.map((event) => [new URL(event.endpoint).pathname, event.httpStatus]), [['/v1/state', 200], ['/v1/sync', 200]]);
  for (const { error } of errors) assert.match(error.message, /answered HTTP 200 with a body that is not the sync protocol's/);
  device.fault = () => null;
  const synced = await manager.syncToDatabase(14, true);
  assert.equal(synced.status, 'synced');
  assert.equal(units(synced.state.syncedTotal), device.server.creditedUnits(14));
  await manager.dispose();
});

test('an endpoint that accepts and never answers: connecting at the start timeout, then unreachable with the endpoint named once a request times out; the sync asked meanwhile fails instead of hanging; nothing lost', async () => {
  const device = await createDevice();
  const never = new Promise(() => {});
  device.fault = () => ({ kind: 'hold', during: () => never });
  const { manager } = await device.openTab();
  const events = collect(manager, ['unreachable', 'error']);
  const starting = manager.initializeUser(15);
  while (!device.server.log.some((request) => request.path === '/v1/state')) await new Promise((resolve) => setImmediate(resolve));
  await device.time.advance(5_000);
  const started = await starting;
  assert.equal(started.syncStatus, 'connecting');
  assert.deepEqual(events, []);
  // No sync timer (the browser says offline): the one sync is the app's, sent at 5 s.
  device.lifecycle.emit('offline');
  await manager.setMining(15, { active: true, rate: RATE });
  const syncing = manager.syncToDatabase(15, true);
  while (!device.server.log.some((request) => request.path === '/v1/sync')) await new Promise((resolve) => setImmediate(resolve));
  // At 35 s the start's request is given up: the sync sent after it is newer and tells the status.
  await device.time.advance(30_000);
  assert.equal(manager.state(15).syncStatus, 'connecting');
  assert.deepEqual(events, []);
  // At 40 s the sync's own request is given up: a failure, told with the endpoint.
  await device.time.advance(5_000);
  const failed = await syncing;
  assert.equal(failed.status, 'failed');
  assert.equal(failed.state.syncStatus, 'unreachable');
  assert.equal(failed.state.rejectedTotal, '0.00000000');
  assert.equal(units(failed.state.pending), 35_000n * 100n);
  const told = events.find((event) => event.type === 'unreachable');
  assert.equal(new URL(told.endpoint).pathname, '/v1/sync');
  assert.equal(told.httpStatus, 0);
  assert.match(told.message, /no answer within 35000 ms/);
  assert.ok(events.some((event) => event.type === 'error' && event.source === 'sync' && event.httpStatus === 0));
  device.fault = () => null;
  const synced = await manager.syncToDatabase(15, true);
  assert.equal(synced.status, 'synced');
  assert.equal(units(synced.state.syncedTotal), device.server.creditedUnits(15));
  assert.equal(units(synced.state.syncedTotal), 35_000n * 100n);
  await manager.dispose();
});

function units(text) {
  return toUnits(text);
}

test('a restored record says connecting, not synced, until the server answered, however late', async () => {
  const { device } = await deviceThatMinedAndSynced(8, RATE);
  let release;
  const held = new Promise((resolve) => { release = resolve; });
  device.fault = (request) => (request.path === '/v1/state' ? { kind: 'hold', during: () => held } : null);
  const { manager } = await device.openTab();
  const asked = device.server.log.length;
  const starting = manager.initializeUser(8);
  // The server does not answer within the start timeout: initializeUser resolves without it.
  while (!device.server.log.slice(asked).some((request) => request.path === '/v1/state')) {
    await new Promise((resolve) => setImmediate(resolve));
  }
  await device.time.advance(5_000);
  const state = await starting;
  assert.equal(state.syncStatus, 'connecting');
  release();
  await manager.settled();
  // The late answer is an answer: the core's own status shows (5 s mined, owed).
  assert.equal(manager.state(8).syncStatus, 'pending');
  await manager.syncToDatabase(8, true);
  assert.equal(manager.state(8).syncStatus, 'synced');
  await manager.dispose();
});

test('a permanent refusal by the sync server says refused and raises refused with the code', async () => {
  const device = await createDevice();
  const { manager } = await device.openTab();
  const events = collect(manager, ['refused', 'rejected']);
  await manager.initializeUser(9);
  await manager.setMining(9, { active: true, rate: RATE });
  await device.time.advance(10_000);
  device.fault = (request) => (request.path === '/v1/sync'
    ? { kind: 'fail', status: 400, body: { error: { code: 'REQUEST_INVALID', message: 'ops[0] is malformed' } } }
    : null);
  const result = await manager.syncToDatabase(9, true);
  assert.equal(result.state.syncStatus, 'refused');
  assert.equal(manager.state(9).syncStatus, 'refused');
  const refused = events.find((event) => event.type === 'refused');
  assert.equal(refused.code, 'REQUEST_INVALID');
  assert.equal(refused.httpStatus, 400);
  assert.equal(manager.state(9).rejectedTotal, '0.01000000');
  assert.ok(events.some((event) => event.type === 'rejected' && event.amount === '0.01000000'));
  await manager.dispose();
});

test('a record deleted while the client id stays is storage-lost: rebuilt from the server under a new client id', async () => {
  const { device } = await deviceThatMinedAndSynced(10, RATE);
  const credited = device.server.creditedUnits(10);
  assert.ok(credited > 0n);
  const { manager: cleaner } = await device.openTab();
  const raw = cleaner.store;
  const oldClientId = new TextDecoder().decode(await raw.get(clientKey(10)));
  await raw.delete(recordKey(10));
  await cleaner.dispose();
  const { manager } = await device.openTab();
  const events = collect(manager, ['storage-lost', 'recovered']);
  const state = await manager.initializeUser(10);
  assert.deepEqual(events.map((event) => event.type), ['storage-lost'], 'the row came in time: storage-lost says so, nothing more');
  assert.equal(events[0].previousClientId, oldClientId);
  assert.notEqual(events[0].clientId, oldClientId);
  assert.equal(events[0].recovered, true);
  assert.equal(units(state.syncedTotal), credited);
  assert.equal(state.syncStatus, 'synced');
  await manager.dispose();
});

// A record that did not restore at start: gone while the client id stayed, or damaged.
const UNRESTORED = {
  'storage-lost': (store, key) => store.delete(key),
  corruption: async (store, key) => {
    const damaged = (await store.get(key)).slice();
    damaged[damaged.length - 1] ^= 0xff;
    await store.put(key, damaged);
  },
};

for (const [cause, unrestore] of Object.entries(UNRESTORED)) {
  test(`${cause} with the server unreachable says not recovered; the sync that later brings the server's row raises recovered with after: '${cause}', once`, async () => {
    const { device } = await deviceThatMinedAndSynced(15, RATE);
    const credited = device.server.creditedUnits(15);
    await unrestore(await IndexedDbStore.open(device.idb, { keyRange: IDBKeyRange }), recordKey(15));
    device.fault = () => ({ kind: 'drop-request' });
    const { manager } = await device.openTab();
    const events = collect(manager, [cause, 'recovered']);
    await manager.initializeUser(15);
    assert.deepEqual(events.map((event) => [event.type, event.recovered]), [[cause, false]]);
    // The session runs on meanwhile, so the row that comes is rebased on what it counted.
    await manager.setMining(15, { active: true, rate: RATE });
    await device.time.advance(5_000);
    device.fault = () => null;
    const synced = await manager.syncToDatabase(15, true);
    assert.equal(synced.status, 'synced');
    const told = events.filter((event) => event.type === 'recovered');
    assert.equal(told.length, 1, 'the app hears that the balance came back');
    assert.deepEqual([told[0].userId, told[0].after, units(told[0].total)], [15, cause, credited]);
    // Told once: later exchanges with the server recover nothing of that record.
    await manager.syncToDatabase(15, true);
    await manager.reconcileData(15);
    assert.equal(events.filter((event) => event.type === 'recovered').length, 1);
    await manager.dispose();
  });
}

test('a new user (no record, no client id) is not storage-lost', async () => {
  const device = await createDevice();
  const { manager } = await device.openTab();
  const events = collect(manager, ['storage-lost']);
  await manager.initializeUser(11);
  assert.equal(events.length, 0);
  await manager.dispose();
});

test('a device clock moved forward while the app was closed is judged by the server: only the real closed time counts', async () => {
  const { device } = await deviceThatMinedAndSynced(12, RATE);
  const { manager: before } = await device.openTab();
  await before.initializeUser(12);
  const balance = units(before.state(12).currentEarnings);
  await before.dispose();
  // Closed for 60 s of real time, while the user moved the device clock forward by an hour.
  device.time.wallMs += 60_000;
  device.time.monoMs = 1_000;
  const server = device.server.now;
  device.server.now = () => server() - 3_600_000;
  device.time.wallMs += 3_600_000;
  const { manager } = await device.openTab();
  const events = collect(manager, ['clock-jump']);
  const state = await manager.initializeUser(12);
  assert.equal(units(state.currentEarnings) - balance, toUnits('0.06'));
  assert.ok(events.some((event) => event.kind === 'server_offset'), 'the moved clock is reported');
  await manager.dispose();
});

test('events a tick raises survive a reload: the offline cap and a clock jump are told before the state that raised them is stored', async () => {
  const device = await createDevice({ engineConfig: { offlineCapMs: 60_000 } });
  const seen = [];
  const first = await device.openTab();
  for (const type of ['review-needed', 'clock-jump']) first.manager.on(type, (event) => seen.push({ ...event, type }));
  await first.manager.initializeUser(13);
  await first.manager.setMining(13, { active: true, rate: RATE });
  device.fault = () => ({ kind: 'drop-request' });
  device.lifecycle.emit('offline');
  // Past the offline cap, and the device clock moved forward an hour within the session; no
  // subscriber and no timer tick: the next call that stores the state is what observes it.
  await device.time.advance(90_000);
  device.time.wallMs += 3_600_000;
  await first.manager.setMining(13, { active: true });
  first.kill();
  const second = await device.openTab();
  for (const type of ['review-needed', 'clock-jump']) second.manager.on(type, (event) => seen.push({ ...event, type }));
  await second.manager.initializeUser(13);
  assert.ok(seen.some((event) => event.type === 'review-needed' && event.reason === 'offline_cap'), `offline cap told: ${JSON.stringify(seen)}`);
  assert.ok(seen.some((event) => event.type === 'clock-jump' && event.kind === 'jump_forward'), 'clock jump told');
  assert.ok(units(second.manager.state(13).heldForVerification) > 0n);
  await second.manager.dispose();
});
