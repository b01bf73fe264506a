// The shipped client engine (the core in wasm, as the browser runs it) against this server:
// the protocol shapes agree in both directions, and after any mix of mining time and lost
// responses the client's synced total is the server's total_earned.
import assert from 'node:assert/strict';
import { before, test } from 'node:test';

import fc from 'fast-check';

import { HOUR_MS, START_MS, clientCore, ledger, serverFixture, units } from './helpers.js';

const fixture = serverFixture();
let core;
let nextUser = 3_000_000;

before(async () => {
  core = await clientCore();
});

// One device: its clock is the server's (no skew), mono counts from the session start.
function device(userId, clientId) {
  const engine = core.createEngine({ userId, clientId, seed: userId % 0xffffffff, config: {} });
  const now = () => ({ wall: fixture.server.clock.now(), mono: fixture.server.clock.now() - START_MS });
  return { engine, now };
}

async function recover({ engine, now }, userId, clientId) {
  const answer = await fixture.state(userId, clientId);
  assert.equal(answer.status, 200, answer.text);
  engine.recoverFromServer(answer.json, now(), { clientId });
}

// Sends what the engine has to send; `lose` drops the response (the server did commit).
async function syncOnce({ engine, now }, userId, { lose = false } = {}) {
  const request = engine.nextSyncRequest(now(), { force: true });
  if (request === null) return false;
  const answer = await fixture.sync(userId, request);
  assert.equal(answer.status, 200, answer.text);
  if (lose) engine.applySyncFailure({ status: 0 }, now());
  else engine.applySyncResponse(answer.text, now());
  return true;
}

test('Property 25: Offline-to-Online Sync - the engine and the server agree after mining, lost responses and resends', async () => {
  await fc.assert(
    fc.asyncProperty(
      fc.array(fc.record({ minutes: fc.integer({ min: 1, max: 90 }), lose: fc.boolean() }), { minLength: 1, maxLength: 4 }),
      async (steps) => {
        const userId = (nextUser += 1);
        const clientId = `phone-${userId}`;
        fixture.server.clock.set(START_MS);
        const phone = device(userId, clientId);
        try {
          await recover(phone, userId, clientId);
          phone.engine.setRate('1.00000000');
          phone.engine.setActive(true, phone.now());
          for (const { minutes, lose } of steps) {
            fixture.server.clock.advance(minutes * 60_000);
            phone.engine.tick(phone.now());
            await syncOnce(phone, userId, { lose });
          }
          // Back online for good: whatever was lost is resent with the same ids until answered.
          fixture.server.clock.advance(60_000);
          phone.engine.tick(phone.now());
          for (let round = 0; round < 5 && (await syncOnce(phone, userId)); round += 1);
          const local = phone.engine.state();
          const money = await ledger(fixture.database.db, userId);
          assert.equal(units(money.total_earned), units(money.audit_credits));
          assert.equal(local.syncedTotal, money.total_earned);
          assert.equal(local.pending, '0.00000000', 'every op was answered');
          assert.ok(units(money.total_earned) > 0n, 'mining time was credited');
          assert.ok(units(money.total_earned) <= (100000000n * BigInt(fixture.server.clock.now() - START_MS + 60_000)) / BigInt(HOUR_MS));
        } finally {
          phone.engine.dispose();
        }
      },
    ),
    { numRuns: 100, seed: 25 },
  );
});
