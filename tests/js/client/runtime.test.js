// The client runtime's effects around the core: compression, quota handling and cleanup, degraded
// storage, lifecycle flushes with keepalive, Telegram's deactivated event, multi-user isolation,
// and disposal.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import fc from 'fast-check';
import { IDBKeyRange } from 'fake-indexeddb';
import { createDevice } from '../support/harness.js';
import { toUnits } from '../support/fake-server.js';
import { FakeLocalStorage } from '../support/fake-web-storage.js';
import { withCompression } from '../../../js/storage/compress.js';
import { MemoryStore } from '../../../js/storage/memory.js';
import { LocalStorageStore } from '../../../js/storage/localstorage.js';
import { IndexedDbStore } from '../../../js/storage/indexeddb.js';
import { recordKey, RECORD_PREFIX, QUARANTINE_PREFIX } from '../../../js/storage/keys.js';
import { createEarningsManager } from '../../../js/index.js';

const RUNS = { numRuns: 100, seed: Number(process.env.FC_SEED ?? 20260124), includeErrorInReport: true };
const RATE = '3.6';

test('compression round-trips any bytes, keeps small values raw, and hands undecodable values on as stored', async () => {
  await fc.assert(fc.asyncProperty(fc.uint8Array({ maxLength: 4000 }), fc.boolean(), async (bytes, repetitive) => {
    const value = repetitive ? Uint8Array.from({ length: bytes.length * 4 }, (_, i) => bytes[i % Math.max(1, bytes.length)] ?? 0) : bytes;
    const inner = new MemoryStore();
    const store = withCompression(inner);
    await store.put('k', value);
    assert.deepEqual(await store.get('k'), value);
    assert.ok((await inner.get('k')).length <= value.length, 'never stored larger than raw');
  }), RUNS);
  const inner = new MemoryStore();
  await inner.put('bad', Uint8Array.from([0x54, 0x45, 0x5a, 0x01, 0xff, 0xff, 0xff]));
  assert.deepEqual(await withCompression(inner).get('bad'), Uint8Array.from([0x54, 0x45, 0x5a, 0x01, 0xff, 0xff, 0xff]));
  assert.equal(withCompression(inner, {}), inner, 'no CompressionStream: the store is used as is');
});

async function managerOn(device, storage, extra = {}) {
  return createEarningsManager({
    core: device.core, storage, transport: {
      sync: (request, options) => device.transport.sync(request, options),
      fetchState: (clientId, options) => device.transport.fetchState(clientId, options),
    },
    clock: device.time.clock, timers: device.time.group(), lifecycle: device.lifecycle, telegram: null, tabs: null,
    seed: 1, randomBytes: device.randomBytes, env: {}, ...extra,
  });
}

test('Property 9: Cache Cleanup Preservation - quota cleanup never evicts the active user or anything unsynced', async () => {
  await fc.assert(fc.asyncProperty(
    fc.array(fc.record({ userId: fc.integer({ min: 2, max: 40 }), synced: fc.boolean() }), { minLength: 1, maxLength: 6 }),
    async (others) => {
      const device = await createDevice();
      const local = new FakeLocalStorage();
      const storage = LocalStorageStore.open(local);
      const unsynced = new Set();
      for (const { userId, synced } of others) {
        const manager = await managerOn(device, storage);
        await manager.initializeUser(userId);
        await manager.setMining(userId, { active: true, rate: RATE });
        await device.time.advance(5_000);
        if (synced) await manager.syncToDatabase(userId, true);
        const state = manager.state(userId);
        if (state.pending !== '0.00000000') unsynced.add(userId);
        else unsynced.delete(userId);
        await manager.dispose();
      }
      // The device is now nearly full: the active user's next write hits the quota.
      local.quotaChars = [...local.items].reduce((sum, [key, value]) => sum + key.length + value.length, 0) + 200;
      const manager = await managerOn(device, storage);
      const quota = [];
      manager.on('quota', (event) => quota.push(event));
      await manager.initializeUser(1);
      await manager.setMining(1, { active: true, rate: RATE });
      await device.time.advance(30_000);
      await manager.updateEarnings(1, '0.00001').catch(() => {});
      await manager.settled();
      const left = (await storage.list(RECORD_PREFIX)).map((entry) => entry.key);
      for (const userId of unsynced) assert.ok(left.includes(recordKey(userId)), `unsynced user ${userId} evicted`);
      const active = await storage.get(recordKey(1));
      if (quota.length === 0) {
        assert.ok(active, 'the active user is stored when cleanup made room');
      }
      assert.equal(units(manager.state(1).currentEarnings) > 0n, true, 'the active user keeps working from memory');
      await manager.dispose();
    },
  ), RUNS);
});

function units(text) {
  return toUnits(text);
}

test('Property 10: Storage Size Management - records of other users that are synced are cleaned up once the budget is approached', async () => {
  await fc.assert(fc.asyncProperty(fc.integer({ min: 3, max: 8 }), fc.integer({ min: 400, max: 3_000 }), async (users, budget) => {
    const device = await createDevice();
    const storage = new MemoryStore();
    for (let userId = 10; userId < 10 + users; userId += 1) {
      const manager = await managerOn(device, storage);
      await manager.initializeUser(userId);
      await manager.setMining(userId, { active: true, rate: RATE });
      await device.time.advance(2_000);
      await manager.syncToDatabase(userId, true);
      await manager.setMining(userId, { active: false });
      await manager.syncToDatabase(userId, true);
      await manager.dispose();
    }
    const before = (await storage.list(RECORD_PREFIX)).reduce((sum, entry) => sum + entry.bytes, 0);
    const manager = await managerOn(device, storage, { storageBudgetBytes: budget });
    await manager.initializeUser(1);
    await manager.settled();
    const records = await storage.list(RECORD_PREFIX);
    const after = records.reduce((sum, entry) => sum + entry.bytes, 0);
    assert.ok(records.some((entry) => entry.key === recordKey(1)), 'active user kept');
    if (before > budget) assert.ok(after < before, `usage ${before} over budget ${budget} and nothing cleaned`);
    await manager.dispose();
  }), RUNS);
});

test('quota on every write: the app is alerted once, keeps earning from memory, and the stored record is untouched', async () => {
  const device = await createDevice();
  const local = new FakeLocalStorage();
  const storage = LocalStorageStore.open(local);
  const manager = await managerOn(device, storage, { compress: false });
  await manager.initializeUser(3);
  await manager.setMining(3, { active: true, rate: RATE });
  const storedBefore = local.getItem(recordKey(3));
  local.quotaChars = 0;
  const quota = [];
  manager.on('quota', (event) => quota.push(event));
  await device.time.advance(10_000);
  await manager.updateEarnings(3, '0.00002');
  await manager.updateEarnings(3, '0.00001');
  assert.equal(quota.length, 1);
  assert.equal(quota[0].userId, 3);
  assert.equal(local.getItem(recordKey(3)), storedBefore);
  local.quotaChars = Infinity;
  const result = await manager.syncToDatabase(3, true);
  assert.equal(device.server.creditedUnits(3), units(result.state.syncedTotal));
  assert.equal(units(result.state.syncedTotal), 10_000n * 100n + units('0.00003'));
  await manager.dispose();
});

test('no durable storage at all: memory, and a storage-degraded event naming what failed', async () => {
  const device = await createDevice();
  const degraded = [];
  const manager = await createEarningsManager({
    core: device.core, transport: device.transport, clock: device.time.clock, timers: device.time.group(),
    lifecycle: device.lifecycle, telegram: null, tabs: null, seed: 1, randomBytes: device.randomBytes,
    env: { get localStorage() { throw new Error('SecurityError'); } },
  });
  manager.on('storage-degraded', (event) => degraded.push(event));
  await manager.initializeUser(4);
  assert.equal(degraded.length, 1);
  assert.equal(degraded[0].store, 'memory');
  assert.equal(degraded[0].durable, false);
  assert.deepEqual(degraded[0].failed.map((entry) => entry.kind), ['indexeddb', 'localstorage']);
  await manager.dispose();
});

test('page hidden, pagehide and Telegram deactivated each send at once, with keepalive', async () => {
  for (const trigger of ['hidden', 'pagehide', 'deactivated']) {
    const device = await createDevice();
    const telegramListeners = new Map();
    const telegram = {
      userId: 11, initData: 'user=%7B%22id%22%3A11%7D', authorization: () => 'dev 11', deviceStorage: null,
      onLifecycle: (type, listener) => {
        telegramListeners.set(type, listener);
        return () => telegramListeners.delete(type);
      },
    };
    const manager = await managerOn(device, new MemoryStore(), { telegram });
    await manager.initializeUser(11);
    await manager.setMining(11, { active: true, rate: RATE });
    await device.time.advance(5_000);
    const before = device.server.log.length;
    if (trigger === 'deactivated') telegramListeners.get('deactivated')();
    else device.lifecycle.emit(trigger);
    await manager.settled();
    const sent = device.server.log.slice(before);
    assert.deepEqual(sent.map((entry) => [entry.path, entry.keepalive]), [['/v1/sync', true]], trigger);
    assert.equal(device.server.creditedUnits(11), 5_000n * 100n);
    await manager.dispose();
    assert.equal(telegramListeners.size, 0, 'dispose unhooks Telegram');
  }
});

test('inside Telegram only the Telegram user can be opened', async () => {
  const device = await createDevice();
  const telegram = { userId: 11, initData: 'x', authorization: () => 'dev 11', deviceStorage: null, onLifecycle: () => () => {} };
  const manager = await managerOn(device, new MemoryStore(), { telegram });
  await assert.rejects(manager.initializeUser(12), { code: 'USER_ID_INVALID' });
  await manager.dispose();
});

test('Property 7: User Data Isolation - several users on one manager: one user\'s corruption and recovery never touch another\'s record', async () => {
  await fc.assert(fc.asyncProperty(fc.integer({ min: 2, max: 5 }), fc.nat(), async (users, victimPick) => {
    const device = await createDevice();
    const idbStore = await IndexedDbStore.open(device.idb, { keyRange: IDBKeyRange });
    const first = await managerOn(device, idbStore);
    for (let userId = 1; userId <= users; userId += 1) {
      await first.initializeUser(userId);
      await first.setMining(userId, { active: userId % 2 === 0, rate: RATE });
    }
    await device.time.advance(3_000);
    for (let userId = 1; userId <= users; userId += 1) await first.syncToDatabase(userId, true);
    await first.dispose();
    const victim = 1 + (victimPick % users);
    const raw = await IndexedDbStore.open(device.idb, { keyRange: IDBKeyRange });
    const before = new Map();
    for (let userId = 1; userId <= users; userId += 1) before.set(userId, await raw.get(recordKey(userId)));
    await raw.put(recordKey(victim), Uint8Array.from([1, 2, 3]));
    const second = await managerOn(device, await IndexedDbStore.open(device.idb, { keyRange: IDBKeyRange }));
    const corrupted = [];
    second.on('corruption', (event) => corrupted.push(event.userId));
    await second.initializeUser(victim);
    await second.settled();
    assert.deepEqual(corrupted, [victim]);
    for (let userId = 1; userId <= users; userId += 1) {
      if (userId !== victim) assert.deepEqual(await raw.get(recordKey(userId)), before.get(userId), `user ${userId} touched`);
    }
    const quarantined = await raw.list(QUARANTINE_PREFIX);
    assert.ok(quarantined.every((entry) => entry.key.startsWith(`${QUARANTINE_PREFIX}${victim}:`)));
    await second.dispose();
  }), RUNS);
});

test('Property 13: Offline Earnings Calculation - offline, earnings keep growing from local state at the rate', async () => {
  await fc.assert(fc.asyncProperty(fc.array(fc.integer({ min: 1, max: 3_600_000 }), { minLength: 1, maxLength: 5 }), async (gaps) => {
    const device = await createDevice();
    const manager = await managerOn(device, new MemoryStore());
    await manager.initializeUser(5);
    await manager.setMining(5, { active: true, rate: RATE });
    device.lifecycle.emit('offline');
    device.fault = () => ({ kind: 'drop-request' });
    let elapsed = 0;
    for (const gap of gaps) {
      await device.time.advance(gap);
      elapsed += gap;
      const state = manager.state(5);
      assert.equal(units(state.currentEarnings) + units(state.heldForVerification), BigInt(elapsed) * 100n);
    }
    assert.equal(device.server.creditedUnits(5), 0n);
    await manager.dispose();
  }), RUNS);
});

// What a sync can meet besides the sync server answering: only the last two are the server's own
// refusal (its error shape, a code meaning the request is wrong); everything else is transport.
const FAILURES = {
  network: { kind: 'drop-request' },
  unavailable: { kind: 'fail', status: 503 },
  'rate-limited': { kind: 'fail', status: 429 },
  unauthorized: { kind: 'fail', status: 401, body: { error: { code: 'AUTH_INVALID', message: 'initData signature mismatch' } } },
  'proxy-404': { kind: 'fail', status: 404, body: '<html><body><h1>404 Not Found</h1>nginx</body></html>' },
  'server-404': { kind: 'fail', status: 404, body: { error: { code: 'NOT_FOUND', message: 'no route for POST /api/v1/sync' } } },
  'static-405': { kind: 'fail', status: 405, body: 'Method Not Allowed' },
  'proxy-413': { kind: 'fail', status: 413, body: '<html>413 Request Entity Too Large</html>' },
  'unknown-code': { kind: 'fail', status: 422, body: { error: { code: 'NEWER_RULE', message: 'a code this client does not know' } } },
  'bad-request': { kind: 'fail', status: 400, body: { error: { code: 'REQUEST_INVALID', message: 'ops[0] is malformed' } } },
  'bad-amount': { kind: 'fail', status: 422, body: { error: { code: 'AMOUNT_MALFORMED', message: 'amount is not a decimal' } } },
};
const PERMANENT = new Set(['bad-request', 'bad-amount']);

test('Property 12: Data Preservation During Errors - what was pending = what is pending + what was refused; misconfigurations refuse nothing', async () => {
  await fc.assert(fc.asyncProperty(
    fc.array(fc.constantFrom(...Object.keys(FAILURES)), { minLength: 1, maxLength: 6 }),
    async (failures) => {
      const device = await createDevice();
      const storage = new MemoryStore();
      const manager = await managerOn(device, storage);
      const rejected = [];
      const errors = [];
      manager.on('rejected', (event) => rejected.push(event));
      manager.on('error', (event) => errors.push(event));
      await manager.initializeUser(6);
      await manager.setMining(6, { active: true, rate: RATE });
      const owedOf = (state) => units(state.pending) + units(state.heldForVerification);
      for (const failure of failures) {
        device.fault = () => FAILURES[failure];
        await device.time.advance(61_000);
        const before = manager.state(6);
        const [rejectedBefore, errorsBefore] = [rejected.length, errors.length];
        await manager.syncToDatabase(6, true);
        const stored = device.core.decodeRecord(await withCompression(storage).get(recordKey(6))).state;
        const refused = rejected.slice(rejectedBefore).reduce((sum, event) => sum + units(event.amount), 0n);
        assert.equal(owedOf(before), owedOf(stored) + refused, `after ${failure}`);
        assert.equal(units(stored.rejectedTotal), units(before.rejectedTotal) + refused);
        if (PERMANENT.has(failure)) {
          assert.ok(refused > 0n, `${failure} refuses the sent ops`);
          assert.ok(rejected.slice(rejectedBefore).every((event) => event.code === FAILURES[failure].body.error.code && event.reason));
        } else {
          assert.equal(refused, 0n, `${failure} is not the server refusing: nothing is rejected`);
          const [error] = errors.slice(errorsBefore);
          assert.equal(error?.source, 'sync');
          assert.equal(error.endpoint, 'http://sync.test/v1/sync');
          assert.equal(error.httpStatus, failure === 'network' ? 0 : FAILURES[failure].status);
        }
      }
      // The endpoint is fixed: everything mined is credited, except what the server itself refused.
      device.fault = () => null;
      await manager.syncToDatabase(6, true);
      await manager.syncToDatabase(6, true);
      const state = manager.state(6);
      assert.equal(state.pending, '0.00000000');
      assert.equal(device.server.creditedUnits(6) + units(state.rejectedTotal), BigInt(61_000 * failures.length) * 100n);
      const audited = manager.recovery.audit(6).filter((entry) => entry.operationType === 'sync_rejected');
      assert.equal(audited.length, rejected.length, 'every refused op is in the audit log');
      await manager.dispose();
    },
  ), RUNS);
});

test('dispose frees every engine and stops every timer; later calls fail with DISPOSED', async () => {
  const device = await createDevice();
  const timers = device.time.group();
  const liveBefore = device.core.liveEngineCount();
  const manager = await managerOn(device, new MemoryStore(), { timers });
  await manager.initializeUser(8);
  await manager.initializeUser(9);
  manager.subscribe(8, () => {});
  await manager.setMining(8, { active: true, rate: RATE });
  assert.equal(device.core.liveEngineCount(), liveBefore + 2);
  await manager.dispose();
  assert.equal(device.core.liveEngineCount(), liveBefore);
  assert.equal(timers.pending(), 0);
  await assert.rejects(manager.updateEarnings(8, '0.1'), { code: 'DISPOSED' });
});

test('Property 15: Corruption Detection and Alerts - every kind of damage raises one alert with working recovery options', async () => {
  await fc.assert(fc.asyncProperty(
    fc.constantFrom('flip', 'truncate', 'garbage', 'empty', 'other-user'), fc.nat(), fc.integer({ min: 1, max: 255 }),
    async (damage, at, xor) => {
      const device = await createDevice();
      const storage = new MemoryStore();
      const first = await managerOn(device, storage, { compress: false });
      await first.initializeUser(21);
      await first.initializeUser(22);
      await first.setMining(21, { active: true, rate: RATE });
      await device.time.advance(4_000);
      await first.syncToDatabase(21, true);
      await first.dispose();
      const bytes = await storage.get(recordKey(21));
      const damaged = {
        flip: () => { const copy = bytes.slice(); copy[at % copy.length] ^= xor; return copy; },
        truncate: () => bytes.slice(0, at % bytes.length),
        garbage: () => Uint8Array.from({ length: 1 + (at % 64) }, (_, i) => (i * xor) & 0xff),
        empty: () => new Uint8Array(0),
      }[damage];
      await storage.put(recordKey(21), damage === 'other-user' ? await storage.get(recordKey(22)) : damaged());
      const second = await managerOn(device, storage, { compress: false });
      const alerts = [];
      second.on('corruption', (event) => alerts.push(event));
      await second.initializeUser(21);
      // An empty value under a record key is damage too (a write that lost its bytes).
      assert.equal(alerts.length, 1);
      assert.ok(['RECORD_CORRUPT', 'RECORD_VERSION', 'RECORD_USER_MISMATCH'].includes(alerts[0].code), alerts[0].code);
      assert.equal(alerts[0].recovered, true);
      assert.equal(await alerts[0].options.retryRecovery(), true);
      assert.ok(await alerts[0].options.readQuarantine());
      await alerts[0].options.discardQuarantine();
      assert.equal(await alerts[0].options.readQuarantine(), null);
      assert.equal(units(second.state(21).syncedTotal), device.server.creditedUnits(21));
      await second.dispose();
    },
  ), RUNS);
});

test('Property 22: Storage Serialization Efficiency - what is stored is never larger than the record and restores to the same state', async () => {
  await fc.assert(fc.asyncProperty(
    fc.array(fc.record({ wait: fc.integer({ min: 0, max: 600_000 }), earn: fc.boolean(), sync: fc.boolean() }), { minLength: 1, maxLength: 8 }),
    async (steps) => {
      const device = await createDevice();
      const inner = new MemoryStore();
      const manager = await managerOn(device, inner);
      await manager.initializeUser(23);
      await manager.setMining(23, { active: true, rate: RATE });
      for (const { wait, earn, sync } of steps) {
        await device.time.advance(wait);
        if (earn) await manager.updateEarnings(23, '0.00001').catch(() => {});
        if (sync) await manager.syncToDatabase(23, true);
      }
      await manager.dispose();
      const stored = await inner.get(recordKey(23));
      const record = await withCompression(inner).get(recordKey(23));
      assert.ok(stored.length <= record.length);
      const engine = device.core.createEngine({ userId: 23, clientId: 'c-check', seed: 1 });
      engine.restore(record);
      const expected = device.core.decodeRecord(record).state;
      assert.deepEqual(engine.state(), expected);
      engine.dispose();
    },
  ), RUNS);
});

test('Property 23: Resource Cleanup - dispose frees every engine, timer and subscription, whatever was open', async () => {
  await fc.assert(fc.asyncProperty(
    fc.array(fc.record({ userId: fc.integer({ min: 1, max: 6 }), subscribe: fc.boolean(), mine: fc.boolean() }), { minLength: 1, maxLength: 6 }),
    async (users) => {
      const device = await createDevice();
      const timers = device.time.group();
      const liveBefore = device.core.liveEngineCount();
      const manager = await managerOn(device, new MemoryStore(), { timers });
      for (const { userId, subscribe, mine } of users) {
        await manager.initializeUser(userId);
        if (subscribe) manager.subscribe(userId, () => {});
        if (mine) await manager.setMining(userId, { active: true, rate: RATE });
      }
      await device.time.advance(1_500);
      await manager.dispose();
      assert.equal(device.core.liveEngineCount(), liveBefore);
      assert.equal(timers.pending(), 0);
      await assert.rejects(manager.updateEarnings(users[0].userId, '0.1'), { code: 'DISPOSED' });
    },
  ), RUNS);
});

test('Property 25: Offline-to-Online Sync - whatever accrued offline is sent by itself on reconnection', async () => {
  await fc.assert(fc.asyncProperty(fc.integer({ min: 1, max: 7 * 3_600_000 }), fc.boolean(), async (offlineMs, reload) => {
    const device = await createDevice();
    const storage = new MemoryStore();
    let manager = await managerOn(device, storage);
    await manager.initializeUser(24);
    await manager.setMining(24, { active: true, rate: RATE });
    device.lifecycle.emit('offline');
    device.fault = () => ({ kind: 'drop-request' });
    if (reload) {
      await manager.dispose();
      device.time.reload(offlineMs);
      manager = await managerOn(device, storage);
      await manager.initializeUser(24);
    } else {
      await device.time.advance(offlineMs);
    }
    device.fault = () => null;
    device.lifecycle.emit('online');
    await manager.settled();
    assert.equal(device.server.creditedUnits(24), BigInt(offlineMs) * 100n);
    await manager.dispose();
  }), RUNS);
});

test('a follower tab mirrors the leader: its subscribers see the leader\'s balance and its writes land once', async () => {
  const device = await createDevice();
  const leader = await device.openTab();
  const follower = await device.openTab();
  await leader.manager.initializeUser(30);
  await follower.manager.initializeUser(30);
  assert.equal(leader.manager.isLeader(30), true);
  assert.equal(follower.manager.isLeader(30), false);
  const seen = [];
  follower.manager.subscribe(30, (state) => seen.push(state.currentEarnings));
  await follower.manager.setMining(30, { active: true, rate: RATE });
  await device.time.advance(3_000);
  await follower.manager.updateEarnings(30, '0.00001');
  await device.time.advance(1_000);
  assert.equal(seen.at(-1), leader.manager.state(30).currentEarnings);
  assert.equal(units(seen.at(-1)), 4_000n * 100n + units('0.00001'));
  await follower.manager.syncToDatabase(30, true);
  assert.equal(device.server.creditedUnits(30), units(leader.manager.state(30).syncedTotal));
});

test('a record that cannot be read is never overwritten: the session runs from memory and the server, and says so', async () => {
  const device = await createDevice();
  const inner = new MemoryStore();
  await inner.put(recordKey(40), Uint8Array.from([9, 9, 9]));
  const writes = [];
  const flaky = {
    kind: 'indexeddb', durable: true,
    get: async (key) => { if (key === recordKey(40)) throw Object.assign(new Error('read failed'), { code: 'STORAGE_UNAVAILABLE' }); return inner.get(key); },
    put: async (key, bytes) => { writes.push(key); return inner.put(key, bytes); },
    delete: (key) => inner.delete(key), list: (prefix) => inner.list(prefix), close() {},
  };
  const manager = await managerOn(device, flaky);
  const degraded = [];
  manager.on('storage-degraded', (event) => degraded.push(event));
  await manager.initializeUser(40);
  await manager.setMining(40, { active: true, rate: RATE });
  await device.time.advance(2_000);
  await manager.updateEarnings(40, '0.00001');
  const result = await manager.syncToDatabase(40, true);
  assert.equal(degraded.length, 1);
  assert.ok(!writes.includes(recordKey(40)));
  assert.deepEqual(await inner.get(recordKey(40)), Uint8Array.from([9, 9, 9]));
  assert.equal(device.server.creditedUnits(40), units(result.state.syncedTotal));
  await manager.dispose();
});

test('handleOfflineMode stops network attempts until online; reconcileData rebases on the server row', async () => {
  const device = await createDevice();
  const manager = await managerOn(device, new MemoryStore());
  await manager.initializeUser(41);
  await manager.setMining(41, { active: true, rate: RATE });
  manager.handleOfflineMode(41);
  const before = device.server.log.length;
  await device.time.advance(180_000);
  assert.equal(device.server.log.length, before);
  assert.equal(units(manager.state(41).pending), 180_000n * 100n);
  device.lifecycle.emit('online');
  await manager.settled();
  assert.equal(device.server.creditedUnits(41), 180_000n * 100n);
  const reconciled = await manager.reconcileData(41);
  assert.equal(reconciled.recovered, true);
  assert.equal(reconciled.state.syncedTotal, '0.18000000');
  assert.deepEqual(reconciled.conflicts, []);
  await manager.dispose();
});

// A core whose addEarnings traps once `armed.now` is set, as a wasm out-of-bounds access would,
// and the manager options that use it: a restart loads a fresh one, disarmed.
async function trappingCore() {
  const { readFile } = await import('node:fs/promises');
  const { loadCore } = await import('../../../js/core.js');
  const { default: createEarningsCore } = await import('../../../dist/earnings-core.mjs');
  const wasmBinary = new Uint8Array(await readFile(new URL('../../../dist/earnings-core.wasm', import.meta.url)));
  const armed = { now: false };
  const moduleFactory = async (moduleArg) => {
    const raw = await createEarningsCore(moduleArg);
    const addEarnings = raw._Engine.prototype._addEarnings;
    raw._Engine.prototype._addEarnings = function trappingAddEarnings(...args) {
      if (armed.now) throw new WebAssembly.RuntimeError('memory access out of bounds');
      return addEarnings.apply(this, args);
    };
    return raw;
  };
  const core = await loadCore({ wasmBinary, moduleFactory });
  const reloadCore = () => {
    armed.now = false;
    return loadCore({ wasmBinary: new Uint8Array(wasmBinary), moduleFactory });
  };
  return { armed, options: { core, reloadCore } };
}

test('a trap in the wasm core: the manager restarts on a fresh core from the stored record and loses nothing', async () => {
  const { armed, options } = await trappingCore();
  const { core } = options;
  const device = await createDevice();
  const errors = [];
  const manager = await managerOn(device, new MemoryStore(), options);
  manager.on('error', (event) => errors.push(event.error?.code));
  await manager.initializeUser(50);
  await manager.setMining(50, { active: true, rate: RATE });
  await device.time.advance(5_000);
  await manager.updateEarnings(50, '0.00002');
  armed.now = true;
  await assert.rejects(manager.updateEarnings(50, '0.00001'), { code: 'CORE_FAULT' });
  await manager.settled();
  assert.ok(errors.includes('CORE_FAULT'));
  assert.notEqual(manager.core, core);
  await device.time.advance(5_000);
  await manager.updateEarnings(50, '0.00003');
  const result = await manager.syncToDatabase(50, true);
  assert.equal(result.status, 'synced');
  assert.equal(device.server.creditedUnits(50), 10_000n * 100n + units('0.00005'));
  await manager.dispose();
});

test('a trap in the wasm core while a lost record waits for the server\'s row: the restart keeps waiting, and the row that comes is told as recovered after storage-lost', async () => {
  const { armed, options } = await trappingCore();
  const device = await createDevice();
  const storage = new MemoryStore();
  const first = await managerOn(device, storage, options);
  await first.initializeUser(51);
  await first.setMining(51, { active: true, rate: RATE });
  await device.time.advance(5_000);
  assert.equal((await first.syncToDatabase(51, true)).status, 'synced');
  await first.dispose();
  const credited = device.server.creditedUnits(51);
  // The record vanishes while the client id stays; the server is down when the app opens again.
  await storage.delete(recordKey(51));
  device.fault = () => ({ kind: 'drop-request' });
  const manager = await managerOn(device, storage, options);
  const events = [];
  for (const type of ['storage-lost', 'recovered']) manager.on(type, (event) => events.push({ ...event, type }));
  await manager.initializeUser(51);
  assert.deepEqual(events.map((event) => [event.type, event.recovered]), [['storage-lost', false]]);
  armed.now = true;
  await assert.rejects(manager.updateEarnings(51, '0.00001'), { code: 'CORE_FAULT' });
  await manager.settled();
  device.fault = () => null;
  assert.equal((await manager.syncToDatabase(51, true)).status, 'synced');
  const told = events.filter((event) => event.type === 'recovered');
  assert.equal(told.length, 1, 'the app hears that the balance came back');
  assert.equal(told[0].after, 'storage-lost');
  assert.ok(toUnits(manager.state(51).syncedTotal) >= credited, 'the server\'s row is in the balance');
  await manager.dispose();
});

// User 2 mined on this device and never synced: its record cannot be evicted, but it carries a
// long audit. User 1's next write then hits the quota. `core` lets a test hide the plan's audit
// trims to show they are what makes room.
async function quotaOverUnsyncedAudit(core) {
  const device = await createDevice();
  const local = new FakeLocalStorage();
  const storage = LocalStorageStore.open(local);
  const records = withCompression(storage);
  const other = await managerOn(device, storage);
  await other.initializeUser(2);
  await other.setMining(2, { active: true, rate: RATE });
  for (let i = 0; i < 40; i += 1) {
    await device.time.advance(1_000);
    await other.updateEarnings(2, '0.00001');
  }
  await other.dispose();
  const manager = await managerOn(device, storage, { core: core(device.core) });
  await manager.initializeUser(1);
  await manager.settled();
  const otherBefore = device.core.decodeRecord(await records.get(recordKey(2)));
  local.quotaChars = [...local.items].reduce((sum, [key, value]) => sum + key.length + value.length, 0);
  const quota = [];
  manager.on('quota', (event) => quota.push(event));
  await device.time.advance(10_000);
  await manager.updateEarnings(1, '0.00001');
  await manager.settled();
  const result = {
    quota,
    otherBefore,
    otherAfter: device.core.decodeRecord(await records.get(recordKey(2))),
    active: device.core.decodeRecord(await records.get(recordKey(1))),
  };
  await manager.dispose();
  return result;
}

test('Property 10: when evicting is not enough, a quota cleanup trims old audit entries of unsynced records and the write succeeds', async () => {
  const { quota, otherBefore, otherAfter, active } = await quotaOverUnsyncedAudit((core) => core);
  assert.deepEqual(quota, [], 'the write that hit the quota succeeded after the cleanup');
  assert.equal(active.state.currentEarnings, '0.00001000');
  assert.ok(otherAfter.audit.entries.length < otherBefore.audit.entries.length, 'the audit shrank');
  assert.ok(otherAfter.audit.dropped > otherBefore.audit.dropped, 'trimmed entries are counted as dropped');
  const kept = otherBefore.audit.entries.slice(otherBefore.audit.entries.length - otherAfter.audit.entries.length);
  assert.deepEqual(otherAfter.audit.entries, kept, 'the newest entries are the ones kept');
  assert.deepEqual(otherAfter.state, otherBefore.state, 'earnings untouched');
  assert.deepEqual(otherAfter.outbox, otherBefore.outbox, 'unsynced ops untouched');
});

test('Property 10: without the audit trims of the plan the same write stays over the quota', async () => {
  const withoutTrims = (core) => new Proxy(core, {
    get(target, name) {
      if (name === 'planStorageCleanup') return (request) => ({ ...target.planStorageCleanup(request), trimAudit: [] });
      const value = target[name];
      return typeof value === 'function' ? value.bind(target) : value;
    },
  });
  const { quota, otherBefore, otherAfter, active } = await quotaOverUnsyncedAudit(withoutTrims);
  assert.equal(quota.length, 1);
  assert.equal(quota[0].userId, 1);
  assert.equal(active.state.currentEarnings, '0.00000000', 'the stored record is the one before the write');
  assert.deepEqual(otherAfter, otherBefore);
});
