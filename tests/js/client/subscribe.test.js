// Property 20 wiring: subscribers are throttled by the core's UiThrottle (not a JS copy of it),
// a waiting update is delivered by its timer whatever the injected clock does, and a balance that
// moved when the app read state() reaches subscribers too.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createDevice } from '../support/harness.js';
import { createEarningsManager } from '../../../js/index.js';
import { MemoryStore } from '../../../js/storage/memory.js';

const USER = 12;
const RATE = '3.60000000'; // 0.001 TON per second

function openManager(device, { core = device.core, clock = device.time.clock } = {}) {
  return createEarningsManager({
    core, storage: new MemoryStore(), transport: device.transport, clock, timers: device.time.group(),
    lifecycle: device.lifecycle, telegram: null, tabs: null, seed: 3, randomBytes: device.randomBytes, env: {},
  });
}

test('subscribers hear when the core\'s throttle says: a core whose throttle always emits lets every update through', async () => {
  const device = await createDevice();
  const intervals = [];
  const alwaysEmit = (intervalMs) => {
    intervals.push(intervalMs);
    return { offer: () => ({ emitNow: true, delayMs: 0 }), dispose() {} };
  };
  const core = new Proxy(device.core, {
    get: (target, name) => {
      if (name === 'createUiThrottle') return alwaysEmit;
      const value = target[name];
      return typeof value === 'function' ? value.bind(target) : value;
    },
  });
  const manager = await openManager(device, { core });
  await manager.initializeUser(USER);
  await manager.setMining(USER, { active: false, rate: RATE });
  await device.time.advance(60_000);
  const heard = [];
  manager.subscribe(USER, (state) => heard.push(state.currentEarnings));
  await manager.updateEarnings(USER, '0.001');
  await manager.updateEarnings(USER, '0.002');
  await manager.updateEarnings(USER, '0.003');
  assert.deepEqual(heard, ['0.00100000', '0.00300000', '0.00600000']);
  assert.deepEqual(intervals, [1000]);
  await manager.dispose();
});

test('a waiting throttled update is delivered by its timer even when the injected clock does not move', async () => {
  const device = await createDevice();
  const still = { wall: () => 1_700_000_000_000, mono: () => 5_000 };
  const manager = await openManager(device, { clock: still });
  await manager.initializeUser(USER);
  await manager.setMining(USER, { active: true, rate: RATE });
  const heard = [];
  manager.subscribe(USER, (state) => heard.push(state.currentEarnings));
  // The clock stands still, so accrual adds nothing; updateEarnings draws on the tolerance budget.
  await manager.updateEarnings(USER, '0.001');
  await manager.updateEarnings(USER, '0.002');
  assert.deepEqual(heard, ['0.00100000'], 'the second update waits out the window');
  await device.time.advance(1_000);
  assert.deepEqual(heard, ['0.00100000', '0.00300000']);
  // Later updates keep being throttled by the timers' time, not delivered at once.
  await manager.updateEarnings(USER, '0.004');
  assert.equal(heard.length, 2);
  await device.time.advance(1_000);
  assert.deepEqual(heard, ['0.00100000', '0.00300000', '0.00700000']);
  await manager.dispose();
});

test('a balance that moved when the app read state() reaches subscribers (throttled like any change)', async () => {
  const device = await createDevice();
  // A clock that runs ahead of the timers: only the app's read can notice the accrual.
  let aheadMs = 0;
  const clock = { wall: () => device.time.wallMs + aheadMs, mono: () => device.time.monoMs + aheadMs };
  const manager = await openManager(device, { clock });
  await manager.initializeUser(USER);
  await manager.setMining(USER, { active: true, rate: RATE });
  const heard = [];
  manager.subscribe(USER, (state) => heard.push(state.currentEarnings));
  aheadMs += 5_000;
  assert.equal(manager.state(USER).currentEarnings, '0.00500000');
  assert.deepEqual(heard, ['0.00500000']);
  aheadMs += 200;
  assert.equal(manager.state(USER).currentEarnings, '0.00520000');
  assert.deepEqual(heard, ['0.00500000'], 'inside the window: not yet');
  await device.time.advance(800);
  assert.deepEqual(heard, ['0.00500000', manager.state(USER).currentEarnings]);
  assert.equal(heard.length, 2);
  await manager.dispose();
});
