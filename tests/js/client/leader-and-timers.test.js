// The sync timer arms the earliest deadline in the timers' own time, the `leader` event, the
// client id taken from the restored engine, and the package entry's exports.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createDevice, deviceThatMinedAndSynced } from '../support/harness.js';
import * as entry from '../../../js/index.js';
import { clientKey, recordKey } from '../../../js/storage/keys.js';
import { SingleTimer } from '../../../js/scheduler.js';
import { MemoryStore } from '../../../js/storage/memory.js';

const USER = 21;
const RATE = '3.60000000';

test('SingleTimer keeps the earlier deadline as the timers count time, whatever the caller\'s clock says', () => {
  const armed = [];
  const timers = {
    setTimeout: (callback, ms) => armed.push({ ms, live: true }) - 1,
    clearTimeout: (handle) => { armed[handle].live = false; },
    now: () => 0,
  };
  const timer = new SingleTimer(timers);
  timer.schedule(60_000, () => {}, 0);
  // The caller's clock ran 120 s ahead of the timers: the 300 ms retry is still the earlier one.
  timer.schedule(300, () => {}, 120_000);
  assert.deepEqual(armed.filter((entryArmed) => entryArmed.live).map((entryArmed) => entryArmed.ms), [300]);
  // A later deadline does not displace an earlier one.
  timer.schedule(5_000, () => {}, 120_000);
  assert.deepEqual(armed.filter((entryArmed) => entryArmed.live).map((entryArmed) => entryArmed.ms), [300]);
});

test('under a clock that jumped ahead of the timers, a failed sync is retried after its short backoff, not after the old 60 s timeout', async () => {
  const device = await createDevice();
  let aheadMs = 0;
  const clock = { wall: () => device.time.wallMs + aheadMs, mono: () => device.time.monoMs + aheadMs };
  const manager = await entry.createEarningsManager({
    core: device.core, storage: new MemoryStore(), transport: device.transport, clock, timers: device.time.group(),
    lifecycle: device.lifecycle, telegram: null, tabs: null, seed: 3, randomBytes: device.randomBytes, env: {},
  });
  await manager.initializeUser(USER);
  await manager.setMining(USER, { active: true, rate: RATE });
  // Nothing owed is due for a minute: the sync timer is armed 60 s out.
  aheadMs += 120_000;
  let failing = true;
  device.fault = (request) => (failing && request.path === '/v1/sync' ? { kind: 'fail', status: 503 } : null);
  const failed = await manager.syncToDatabase(USER, true);
  assert.equal(failed.status, 'failed');
  assert.ok(failed.retryInMs <= 1_000, `first backoff ${failed.retryInMs} ms`);
  failing = false;
  const outcomes = [];
  manager.on('sync', (event) => outcomes.push(event.status));
  await device.time.advance(1_000);
  assert.deepEqual(outcomes, ['synced']);
  await manager.dispose();
});

test('the leader event: a tab that leads from the start says so, a follower says so when it takes over, dispose says it stopped', async () => {
  const device = await createDevice();
  const first = await device.openTab();
  const second = await device.openTab();
  const heardFirst = [];
  const heardSecond = [];
  first.manager.on('leader', (event) => heardFirst.push(event));
  second.manager.on('leader', (event) => heardSecond.push(event));
  await first.manager.initializeUser(USER);
  await second.manager.initializeUser(USER);
  assert.deepEqual(heardFirst, [{ userId: USER, isLeader: true }]);
  assert.deepEqual(heardSecond, []);
  const takeover = new Promise((resolve) => second.manager.on('leader', resolve));
  await first.manager.dispose();
  assert.deepEqual(heardFirst, [{ userId: USER, isLeader: true }, { userId: USER, isLeader: false }]);
  assert.deepEqual(await takeover, { userId: USER, isLeader: true });
  assert.equal(second.manager.isLeader(USER), true);
  await second.manager.dispose();
});

test('after a restore the session uses the record\'s client id (from the engine), even when the stored client id says otherwise', async () => {
  const { device } = await deviceThatMinedAndSynced(USER, RATE, { withTabs: false });
  const [recordClientId] = device.server.user(USER).lastSeq.keys();
  // The separately stored client id is replaced; the record still carries the original one. The
  // core cannot decode records here, so only the restored engine can say which id the record has.
  const { IndexedDbStore } = await import('../../../js/storage/indexeddb.js');
  const { IDBKeyRange } = await import('fake-indexeddb');
  const store = await IndexedDbStore.open(device.idb, { keyRange: IDBKeyRange });
  await store.put(clientKey(USER), new TextEncoder().encode('c-impostor'));
  const noDecode = new Proxy(device.core, {
    get: (target, name) => {
      if (name === 'decodeRecord') return () => { throw new Error('decodeRecord is not for reading client ids'); };
      const value = target[name];
      return typeof value === 'function' ? value.bind(target) : value;
    },
  });
  const asked = [];
  const transport = {
    sync: (request, options) => {
      asked.push(['sync', request.clientId]);
      return device.transport.sync(request, options);
    },
    fetchState: (clientId, options) => {
      asked.push(['state', clientId]);
      return device.transport.fetchState(clientId, options);
    },
  };
  const manager = await entry.createEarningsManager({
    core: noDecode, storage: store, transport, clock: device.time.clock, timers: device.time.group(),
    lifecycle: device.lifecycle, telegram: null, tabs: null, seed: 4, randomBytes: device.randomBytes, env: {},
  });
  await manager.initializeUser(USER);
  await device.time.advance(10_000);
  await manager.syncToDatabase(USER, true);
  await manager.reconcileData(USER);
  // The start asks the server's state (its clock judges the catch-up) under the record's id too.
  assert.deepEqual(asked, [['state', recordClientId], ['sync', recordClientId], ['state', recordClientId]]);
  assert.deepEqual([...device.server.user(USER).lastSeq.keys()], [recordClientId]);
  await manager.dispose();
});

test('the package entry exports recordKey, the key a user\'s record is stored under', () => {
  assert.equal(entry.recordKey, recordKey);
  assert.equal(entry.recordKey(42), 'teg:record:42');
  assert.ok(entry.EVENT_TYPES.includes('leader'));
});
