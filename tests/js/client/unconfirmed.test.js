// The time the app was closed, after a reload the server did not answer: held as `unconfirmed`
// beside the balance (never inside it, also across further reloads) until the server's time
// judges it, then counted as far as the server's clock says and the rest of the device clock's
// claim refused (a `catch-up` event). Online starts are judged at once.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import fc from 'fast-check';
import { createDevice } from '../support/harness.js';
import { toUnits } from '../support/fake-server.js';

const USER = 21;
const RATE = '3.60000000'; // 0.001 TON per second: exactly 100 units per ms
const UNITS_PER_MS = 100n;
const OFFLINE = () => ({ kind: 'drop-request' });

// What the device has counted: the balance, and beyond the offline cap what it holds for
// verification or the server queued for review.
function counted(state) {
  return toUnits(state.currentEarnings) + toUnits(state.heldForVerification) + toUnits(state.underReview);
}

// A device that mined `minedMs`, synced and closed. `skew` is how far the device's wall clock is
// from the server's (which the server's clock reads as the true time).
async function minedDevice(minedMs) {
  const device = await createDevice();
  const clock = { skew: 0 };
  device.server.now = () => device.time.wallMs - clock.skew;
  const { manager } = await device.openTab();
  await manager.initializeUser(USER);
  await manager.setMining(USER, { active: true, rate: RATE });
  await device.time.advance(minedMs);
  await manager.syncToDatabase(USER, true);
  await manager.dispose();
  return { device, clock };
}

// The app closed `closedMs` of true time, the device clock moved `moveMs` meanwhile; a reload.
function closeFor(device, clock, closedMs, moveMs) {
  device.time.wallMs += closedMs + moveMs;
  clock.skew += moveMs;
  device.time.reload();
}

test('a clock moved forward while the app was closed, then started offline: the closed time is unconfirmed, never in the balance, across a reload, and the server refuses the moved hour', async () => {
  const { device, clock } = await minedDevice(10_000);
  const { manager: before } = await device.openTab();
  await before.initializeUser(USER);
  const balance = counted(before.state(USER));
  await before.dispose();

  closeFor(device, clock, 60_000, 3_600_000);
  device.fault = OFFLINE;
  const first = await device.openTab();
  const state = await first.manager.initializeUser(USER);
  assert.equal(state.syncStatus, 'unreachable');
  assert.equal(counted(state), balance, 'nothing of the closed time is in the balance');
  assert.equal(state.unconfirmed, '3.66000000', 'the device clock claims 1 h 60 s at 3.6 TON/h');
  await first.manager.dispose();

  // Closed again 30 s, still offline: the claim adds up, the balance still holds none of it.
  closeFor(device, clock, 30_000, 0);
  const second = await device.openTab();
  const again = await second.manager.initializeUser(USER);
  assert.equal(counted(again), balance);
  assert.equal(again.unconfirmed, '3.69000000');

  // The server is back: its clock judges the 90 s that really passed; the moved hour is refused.
  const told = [];
  second.manager.on('catch-up', (event) => told.push(event));
  device.fault = () => null;
  const synced = await second.manager.syncToDatabase(USER, true);
  assert.equal(synced.status, 'synced');
  const judged = second.manager.state(USER);
  assert.equal(judged.unconfirmed, '0.00000000');
  assert.equal(counted(judged) - balance, 90_000n * UNITS_PER_MS);
  assert.equal(told.length, 1);
  assert.deepEqual([told[0].claimedMs, told[0].confirmedMs, told[0].refusedMs], [3_690_000, 90_000, 3_600_000]);
  await second.manager.dispose();
});

test('Property 27: for random closed times, clock moves and online or offline starts, the balance never holds unconfirmed time, and once the server judged it nothing is lost or counted twice', async () => {
  const reload = fc.record({
    closedMs: fc.integer({ min: 0, max: 2 * 3_600_000 }),
    moveMs: fc.integer({ min: -3_600_000, max: 3_600_000 }),
    online: fc.boolean(),
    sessionMs: fc.integer({ min: 0, max: 120_000 }),
  });
  await fc.assert(
    fc.asyncProperty(fc.array(reload, { minLength: 1, maxLength: 4 }), async (reloads) => {
      const minedMs = 10_000;
      const { device, clock } = await minedDevice(minedMs);
      // True time counted so far, and the device clock's claims no server time judged yet.
      let trueMs = BigInt(minedMs);
      let unjudgedTrueMs = 0n;
      let claimedMs = 0n;
      for (const { closedMs, moveMs, online, sessionMs } of reloads) {
        closeFor(device, clock, closedMs, moveMs);
        unjudgedTrueMs += BigInt(closedMs);
        claimedMs += BigInt(Math.max(0, closedMs + moveMs));
        device.fault = online ? () => null : OFFLINE;
        const { manager } = await device.openTab();
        const state = await manager.initializeUser(USER);
        if (online) {
          trueMs += unjudgedTrueMs;
          unjudgedTrueMs = 0n;
          claimedMs = 0n;
        }
        assert.equal(counted(state), trueMs * UNITS_PER_MS, 'the balance holds judged time only');
        assert.equal(toUnits(state.unconfirmed), claimedMs * UNITS_PER_MS, 'the claim is shown as unconfirmed');
        await device.time.advance(sessionMs);
        trueMs += BigInt(sessionMs);
        assert.equal(counted(manager.state(USER)), trueMs * UNITS_PER_MS);
        await manager.dispose();
      }
      // The server answers at last: every closed span is judged by its clock, exactly once.
      device.time.reload();
      device.fault = () => null;
      const { manager } = await device.openTab();
      await manager.initializeUser(USER);
      await manager.syncToDatabase(USER, true);
      const settled = manager.state(USER);
      assert.equal(settled.unconfirmed, '0.00000000');
      assert.equal(counted(settled), (trueMs + unjudgedTrueMs) * UNITS_PER_MS);
      await manager.dispose();
    }),
    { numRuns: 100, seed: 122 },
  );
});
