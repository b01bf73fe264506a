// The client's view of a user's mining lease (js/mining-lease.js), alone: what each sync asks of
// the lease, and what an answer tells the engine to do.
import assert from 'node:assert/strict';
import { test } from 'node:test';

import { MiningLease } from '../../../js/mining-lease.js';

const elsewhere = { held: false, clientId: 'phone', until: 1_000_150_000 };
const mine = { held: true, clientId: 'desk', until: 1_000_150_000 };
const nobody = { held: false, clientId: null, until: null };

test('an explicit start takes the lease once, then the device holds it while it mines', () => {
  const lease = new MiningLease();
  assert.equal(lease.intent(false), 'release', 'a device that does not mine asks for nothing');
  assert.equal(lease.needsSync(), false);
  lease.miningSet(true);
  assert.equal(lease.intent(true), 'take');
  assert.equal(lease.needsSync(), true, 'the start is told even with no ops owed');
  assert.equal(lease.answered(mine, 'take', true), null);
  assert.equal(lease.intent(true), 'hold');
  assert.equal(lease.needsSync(), false);
});

test('another holder pauses a mining device; it waits, holding out for the lease, and resumes when it is its own', () => {
  const lease = new MiningLease();
  assert.equal(lease.answered(elsewhere, 'hold', true), 'pause');
  assert.deepEqual(lease.elsewhere, { clientId: 'phone', until: 1_000_150_000 });
  // Paused, the engine no longer mines, but the device still asks to hold and keeps syncing.
  assert.equal(lease.intent(false), 'hold');
  assert.equal(lease.needsSync(), true);
  assert.equal(lease.answered({ ...elsewhere, until: 1_000_210_000 }, 'hold', false), null, 'renewed elsewhere: still paused');
  assert.equal(lease.elsewhere.until, 1_000_210_000);
  assert.equal(lease.answered(mine, 'hold', false), 'resume');
  assert.equal(lease.elsewhere, null);
});

test('a device that does not mine is never paused; a stop gives the lease up and ends a wait', () => {
  const lease = new MiningLease();
  assert.equal(lease.answered(elsewhere, 'release', false), null);
  assert.equal(lease.elsewhere, null);
  lease.answered(elsewhere, 'hold', true);
  lease.miningSet(false);
  assert.equal(lease.elsewhere, null);
  assert.equal(lease.intent(false), 'release');
  assert.equal(lease.answered(nobody, 'release', false), null);
  assert.equal(lease.needsSync(), false);
});

test('an answer without a lease (a server that predates it) changes nothing; an intent not yet carried stays', () => {
  const lease = new MiningLease();
  lease.miningSet(true);
  assert.equal(lease.answered(undefined, 'hold', true), null);
  assert.equal(lease.intent(true), 'take', 'the take was not the intent that answer carried');
  assert.equal(lease.answered(undefined, 'take', true), null);
  assert.equal(lease.intent(true), 'hold');
});
