// A browser with BroadcastChannel but no Web Locks: a tab leads only when no live leader answers
// its hello; a second tab follows instead (and says so), so the same time is never counted twice;
// when the leader closes, the follower leads.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createDevice } from '../support/harness.js';
import { toUnits } from '../support/fake-server.js';
import { createEarningsManager } from '../../../js/index.js';
import { IndexedDbStore } from '../../../js/storage/indexeddb.js';

const USER = 31;
const RATE = '3.60000000'; // 0.001 TON per second
const PROBE_MS = 500;

async function openTabWithoutLocks(device) {
  const tab = device.browser.tab();
  const { IDBKeyRange } = await import('fake-indexeddb');
  return createEarningsManager({
    core: device.core, storage: await IndexedDbStore.open(device.idb, { keyRange: IDBKeyRange }),
    transport: device.transport, clock: device.time.clock, timers: device.time.group(), lifecycle: device.lifecycle,
    telegram: null, tabs: { locks: null, openChannel: tab.services.openChannel }, seed: 5,
    randomBytes: device.randomBytes, env: {},
  });
}

// Channel messages are delivered on later event-loop turns, as in a browser; fake timers fire
// as soon as time is advanced, so the messages go first.
function flush() {
  return new Promise((resolve) => setImmediate(resolve));
}

// initializeUser waits up to PROBE_MS of timer time for a leader's answer.
async function initialize(device, manager) {
  const ready = manager.initializeUser(USER);
  await flush();
  await device.time.advance(PROBE_MS);
  return ready;
}

test('without Web Locks a lone tab leads once no leader answers its hello', async () => {
  const device = await createDevice();
  const manager = await openTabWithoutLocks(device);
  const refused = [];
  manager.on('leader-refused', (event) => refused.push(event));
  await initialize(device, manager);
  assert.equal(manager.isLeader(USER), true);
  assert.deepEqual(refused, []);
  await manager.dispose();
});

test('without Web Locks a second tab refuses to lead while a leader answers, says so, and its earning lands once', async () => {
  const device = await createDevice();
  const first = await openTabWithoutLocks(device);
  await initialize(device, first);
  await first.setMining(USER, { active: true, rate: RATE });
  const second = await openTabWithoutLocks(device);
  const refused = [];
  const leading = [];
  second.on('leader-refused', (event) => refused.push(event));
  second.on('leader', (event) => leading.push(event));
  await initialize(device, second);
  assert.equal(first.isLeader(USER), true);
  assert.equal(second.isLeader(USER), false);
  assert.equal(refused.length, 1);
  assert.equal(refused[0].userId, USER);
  assert.deepEqual(leading, []);
  await device.time.advance(60_000);
  await second.updateEarnings(USER, '0.01');
  await first.syncToDatabase(USER, true);
  // Only the leader accrued: 60.5 s of mining at 0.001 TON/s, plus the one earning.
  assert.equal(device.server.creditedUnits(USER), toUnits('0.0605') + toUnits('0.01'));
  await first.dispose();
  await second.dispose();
});

test('without Web Locks, when the leader tab closes the follower leads from the stored record', async () => {
  const device = await createDevice();
  const first = await openTabWithoutLocks(device);
  await initialize(device, first);
  await first.setMining(USER, { active: false, rate: RATE });
  await device.time.advance(60_000);
  await first.updateEarnings(USER, '0.02');
  const second = await openTabWithoutLocks(device);
  await initialize(device, second);
  assert.equal(second.isLeader(USER), false);
  const took = new Promise((resolve) => second.on('leader', resolve));
  await first.dispose();
  await flush();
  await device.time.advance(PROBE_MS);
  assert.deepEqual(await took, { userId: USER, isLeader: true });
  assert.equal(second.state(USER).currentEarnings, '0.02000000');
  await second.dispose();
});
