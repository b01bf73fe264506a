// Moving users of an old app (the seed's LocalEarningsData in localStorage) onto the client
// runtime, end to end: the real client (createEarningsManager on the wasm core, real fetch
// transport) against this server. The old app's undelivered earnings reach the review queue,
// never the balance; its rate carries over; the entry is removed once imported and stored; a
// damaged entry is reported and left in place.
import assert from 'node:assert/strict';
import { test } from 'node:test';

import { createEarningsManager } from '../../js/index.js';
import { MemoryStore } from '../../js/storage/memory.js';
import { createFetchTransport, devAuth } from '../../js/transport.js';
import { FakeLocalStorage } from '../js/support/fake-web-storage.js';
import { FakeTime } from '../js/support/fake-time.js';
import { START_MS, clientCore, ledger, serverFixture } from './helpers.js';

const LEGACY_KEY = 'earningsData';

const fixture = serverFixture();

// An entry as the old app's JSON.stringify wrote it: float money, a failed sync.
function legacyEntry(userId, { amounts = [0.1, 0.2], rate = 0.75 } = {}) {
  return {
    state: { userId, currentEarnings: 12.3, baseEarningRate: rate, lastUpdate: START_MS - 60_000, startDate: START_MS - 86_400_000, isActive: false, syncStatus: 'failed' },
    pendingOperations: amounts.map((amount, i) => ({
      id: `old-${i}`, userId, type: 'earnings_update', data: { amount }, timestamp: START_MS - 120_000 + i * 1000, retryCount: 5, maxRetries: 5,
    })),
    lastCleanup: 0,
    version: 1,
  };
}

async function openClient(localStorage) {
  const time = new FakeTime({ wall: START_MS });
  const manager = await createEarningsManager({
    core: await clientCore(),
    storage: new MemoryStore(),
    transport: createFetchTransport({ endpoint: fixture.server.url, auth: devAuth() }),
    clock: time.clock,
    timers: time.group(),
    lifecycle: { isOnline: () => true, on: () => () => {} },
    telegram: null,
    tabs: null,
    seed: 7,
    env: { localStorage },
    legacyStorageKey: LEGACY_KEY,
  });
  const errors = [];
  manager.on('error', (event) => errors.push(event));
  return { manager, errors };
}

test('an old app user is imported once: rate carried over, undelivered earnings queued for review, entry removed', async () => {
  const [userId, neighbour] = [4_100_001, 4_100_002];
  const localStorage = new FakeLocalStorage();
  localStorage.setItem(LEGACY_KEY, JSON.stringify({ [userId]: legacyEntry(userId), [neighbour]: legacyEntry(neighbour) }));
  fixture.server.clock.set(START_MS);
  const { manager, errors } = await openClient(localStorage);
  try {
    await manager.initializeUser(userId);
    assert.equal(manager.state(userId).heldForVerification, '0.30000000');
    const result = await manager.syncToDatabase(userId, true);
    assert.equal(result.status, 'synced', JSON.stringify(result));
    assert.deepEqual(result.results.map((r) => r.status), ['review']);
    const reviews = (await fixture.admin(`/v1/admin/reviews?userId=${userId}`)).json.reviews;
    assert.deepEqual(reviews.map((r) => [r.amount, r.reason]), [['0.30000000', 'verification']]);
    const money = await ledger(fixture.database.db, userId);
    assert.equal(money.total_earned, '0.00000000', 'nothing credited on the old app\'s word');
    assert.equal(money.pending_review, '0.30000000');
    // The entry is gone, the neighbour's stays for their own first start.
    assert.deepEqual(Object.keys(JSON.parse(localStorage.getItem(LEGACY_KEY))), [String(neighbour)]);
    assert.deepEqual(errors, []);
  } finally {
    await manager.dispose();
  }
  // A second start finds the user's record: nothing is imported or claimed again.
  const again = await openClient(localStorage);
  try {
    await again.manager.initializeUser(neighbour);
    assert.equal(again.manager.state(neighbour).heldForVerification, '0.30000000');
    assert.equal(localStorage.getItem(LEGACY_KEY), null, 'the last entry takes the key with it');
  } finally {
    await again.manager.dispose();
  }
});

test('a damaged legacy entry is reported with its code and left in place; the user starts fresh', async () => {
  const userId = 4_100_010;
  const localStorage = new FakeLocalStorage();
  const entry = legacyEntry(userId);
  entry.pendingOperations[0].data.amount = -5;
  const stored = JSON.stringify({ [userId]: entry });
  localStorage.setItem(LEGACY_KEY, stored);
  fixture.server.clock.set(START_MS);
  const { manager, errors } = await openClient(localStorage);
  try {
    await manager.initializeUser(userId);
    assert.equal(manager.state(userId).heldForVerification, '0.00000000');
    assert.deepEqual(errors.map((e) => [e.source, e.error.code]), [['legacy', 'RECORD_CORRUPT']]);
    assert.equal(localStorage.getItem(LEGACY_KEY), stored);
  } finally {
    await manager.dispose();
  }
});
