// The server owns each user's rate: a sync answer that brings another rate (set by the app's
// backend, or the server's own in place of one the app set with setMining) switches the engine's
// accrual to it and raises `rate-changed`.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createDevice } from '../support/harness.js';

const RATE = '3.60000000'; // 0.001 TON per second, the fake server's default

test('a rate the backend sets reaches the client on its next sync: rate-changed, then accrual at it', async () => {
  const device = await createDevice();
  const { manager } = await device.openTab();
  const changes = [];
  manager.on('rate-changed', (event) => changes.push(event));
  await manager.initializeUser(42);
  await manager.setMining(42, { active: true, rate: RATE });
  await device.time.advance(10_000);
  await manager.syncToDatabase(42, true);
  assert.deepEqual(changes, [], 'the same rate is no change');

  device.server.user(42).rate = '7.20000000';
  await device.time.advance(10_000);
  const result = await manager.syncToDatabase(42, true);
  assert.deepEqual(changes, [{ userId: 42, previousRate: RATE, rate: '7.20000000' }]);
  assert.equal(result.state.baseEarningRate, '7.20000000');
  assert.equal(manager.state(42).currentEarnings, '0.02000000');
  await device.time.advance(10_000);
  assert.equal(manager.state(42).currentEarnings, '0.04000000', '10 s at 7.2 TON/h');
  await manager.dispose();
});

test('the rate the app sets is a display hint: the next sync answer puts the server rate back', async () => {
  const device = await createDevice();
  const { manager } = await device.openTab();
  const changes = [];
  manager.on('rate-changed', (event) => changes.push(event));
  await manager.initializeUser(43);
  await manager.setMining(43, { active: true, rate: '1' });
  assert.equal(manager.state(43).baseEarningRate, '1.00000000');
  await device.time.advance(10_000);
  await manager.syncToDatabase(43, true);
  assert.deepEqual(changes, [{ userId: 43, previousRate: '1.00000000', rate: RATE }]);
  assert.equal(manager.state(43).baseEarningRate, RATE);
  await manager.dispose();
});
