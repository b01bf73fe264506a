import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createDevice } from '../support/harness.js';
import { toUnits } from '../support/fake-server.js';
import { recordKey, quarantineKey } from '../../../js/storage/keys.js';

const RATE = '3.60000000'; // 0.001 TON per second: easy arithmetic in tests

test('initializeUser opens a fresh user, mining accrues, a sync credits exactly the local balance', async () => {
  const device = await createDevice();
  const { manager } = await device.openTab();
  const state = await manager.initializeUser(42);
  assert.equal(state.userId, 42);
  assert.equal(state.currentEarnings, '0.00000000');
  await manager.setMining(42, { active: true, rate: RATE });
  await device.time.advance(10_000);
  const result = await manager.syncToDatabase(42, true);
  assert.equal(result.status, 'synced');
  assert.equal(result.state.currentEarnings, '0.01000000');
  assert.equal(device.server.creditedUnits(42), toUnits('0.01'));
  await manager.dispose();
});

test('bad input throws a stable code and changes nothing', async () => {
  const device = await createDevice();
  const { manager } = await device.openTab();
  await manager.initializeUser(1);
  await manager.setMining(1, { active: false, rate: RATE });
  await device.time.advance(60_000);
  const before = manager.state(1);
  const cases = [
    [() => manager.initializeUser(0), 'USER_ID_INVALID'],
    [() => manager.initializeUser(1.5), 'USER_ID_INVALID'],
    [() => manager.initializeUser(2 ** 53), 'USER_ID_INVALID'],
    [() => manager.initializeUser('1'), 'USER_ID_INVALID'],
    [() => manager.updateEarnings(1, 0.001), 'AMOUNT_MALFORMED'],
    [() => manager.updateEarnings(1, 'NaN'), 'AMOUNT_MALFORMED'],
    [() => manager.updateEarnings(1, '-0.001'), 'AMOUNT_NEGATIVE'],
    [() => manager.updateEarnings(1, '0.000000001'), 'AMOUNT_PRECISION'],
    [() => manager.updateEarnings(1, '99999999999'), 'AMOUNT_OVERFLOW'],
    [() => manager.updateEarnings(1, '1000'), 'AMOUNT_EXCEEDS_BUDGET'],
    [() => manager.updateEarnings(2, '0.001'), 'USER_NOT_INITIALIZED'],
    [() => manager.setMining(1, { active: true, rate: '-1' }), 'RATE_INVALID'],
  ];
  for (const [call, code] of cases) {
    await assert.rejects(async () => call(), (error) => error.code === code, code);
  }
  assert.deepEqual(manager.state(1), before);
  await manager.dispose();
});

test('updateEarnings resolves only once the earning is stored: a kill right after loses nothing', async () => {
  const device = await createDevice();
  const first = await device.openTab();
  await first.manager.initializeUser(7);
  await first.manager.setMining(7, { active: false, rate: RATE });
  await device.time.advance(60_000);
  await first.manager.updateEarnings(7, '0.05');
  first.kill();
  const second = await device.openTab();
  const state = await second.manager.initializeUser(7);
  assert.equal(state.currentEarnings, '0.05000000');
  await second.manager.syncToDatabase(7, true);
  assert.equal(device.server.creditedUnits(7), toUnits('0.05'));
  await second.manager.dispose();
});

test('a corrupt record is quarantined, the state comes back from the server, and the app is told with options', async () => {
  const device = await createDevice();
  const first = await device.openTab();
  await first.manager.initializeUser(9);
  await first.manager.setMining(9, { active: true, rate: RATE });
  await device.time.advance(20_000);
  await first.manager.syncToDatabase(9, true);
  await first.manager.dispose();
  const store = await (await import('../../../js/storage/indexeddb.js')).IndexedDbStore.open(device.idb, { keyRange: (await import('fake-indexeddb')).IDBKeyRange });
  const bytes = await store.get(recordKey(9));
  const damaged = bytes.slice();
  damaged[damaged.length - 1] ^= 0xff;
  await store.put(recordKey(9), damaged);
  const second = await device.openTab();
  const seen = [];
  second.manager.on('corruption', (event) => seen.push(event));
  const state = await second.manager.initializeUser(9);
  assert.equal(seen.length, 1);
  assert.equal(seen[0].code, 'RECORD_CORRUPT');
  assert.equal(seen[0].recovered, true);
  assert.deepEqual(await seen[0].options.readQuarantine(), damaged);
  assert.equal(seen[0].quarantineKey, quarantineKey(9, device.time.wallMs));
  assert.equal(state.currentEarnings, '0.02000000');
  await second.manager.dispose();
});

test('any junk given as a user id or an amount is refused with a stable code, and nothing changes, in memory or stored', async () => {
  const fc = (await import('fast-check')).default;
  const { MemoryStore } = await import('../../../js/storage/memory.js');
  const { createEarningsManager } = await import('../../../js/index.js');
  const device = await createDevice();
  const storage = new MemoryStore();
  const manager = await createEarningsManager({
    core: device.core, storage, transport: device.transport, clock: device.time.clock, timers: device.time.group(),
    lifecycle: device.lifecycle, telegram: null, tabs: null, seed: 3, randomBytes: device.randomBytes, env: {},
  });
  await manager.initializeUser(5);
  await manager.setMining(5, { active: false, rate: RATE });
  await device.time.advance(60_000);
  const junk = fc.oneof(
    fc.double(), fc.integer(), fc.bigInt(), fc.string(), fc.constant(null), fc.constant(undefined), fc.boolean(),
    fc.object(), fc.array(fc.nat()), fc.constantFrom('NaN', 'Infinity', '-0.5', '1e3', ' 1', '+1', '.5', '1.123456789', '10000000000', '0x10', '١'),
  );
  const codes = new Set(['USER_ID_INVALID', 'AMOUNT_MALFORMED', 'AMOUNT_PRECISION', 'AMOUNT_OVERFLOW', 'AMOUNT_NEGATIVE',
    'AMOUNT_EXCEEDS_BUDGET', 'USER_NOT_INITIALIZED']);
  await fc.assert(fc.asyncProperty(junk, junk, async (userId, amount) => {
    const before = manager.state(5);
    const stored = await storage.get('teg:record:5');
    const attempt = async () => manager.updateEarnings(Number.isSafeInteger(userId) && userId > 0 ? 5 : userId, amount);
    const outcome = await attempt().then(() => null, (error) => error);
    if (outcome === null) {
      assert.ok(typeof amount === 'string', 'only a decimal string can be an earning');
      return;
    }
    assert.ok(codes.has(outcome.code), `${outcome.code}: ${outcome.message}`);
    assert.deepEqual(manager.state(5), before);
    assert.deepEqual(await storage.get('teg:record:5'), stored);
    await assert.rejects(manager.initializeUser(typeof userId === 'number' && Number.isSafeInteger(userId) && userId > 0 ? -userId : userId),
      (error) => error.code === 'USER_ID_INVALID');
  }), { numRuns: 200, seed: 7, includeErrorInReport: true });
  await manager.dispose();
});
