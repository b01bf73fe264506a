// The server's Retry-After (429 RATE_LIMITED, REVIEW_QUEUE_FULL, TOO_MANY_CLIENTS; 503 DRAINING)
// holds the client's next sync until it has passed, even where the core's own backoff is shorter
// and even for a forced sync; the ops wait in the outbox and are credited once, when it is sent.
import { test } from 'node:test';
import assert from 'node:assert/strict';

import { MAX_RETRY_AFTER_MS, retryAfterMs } from '../../../js/transport.js';
import { createDevice } from '../support/harness.js';
import { toUnits } from '../support/fake-server.js';

const USER = 77;
const RATE = '3.60000000'; // 0.001 TON per second

const syncRequests = (device) => device.server.log.filter((entry) => entry.path === '/v1/sync').length;

for (const [status, code] of [[429, 'RATE_LIMITED'], [503, 'DRAINING']]) {
  test(`a ${status} ${code} with Retry-After: 30 holds every sync for 30 s, then the earnings are credited once`, async () => {
    const device = await createDevice();
    const { manager } = await device.openTab({ withTabs: false });
    await manager.initializeUser(USER);
    await manager.setMining(USER, { active: true, rate: RATE });
    await device.time.advance(10_000);
    let refusals = 1;
    device.fault = (request) =>
      request.path === '/v1/sync' && refusals-- > 0 ? { kind: 'fail', status, code, headers: { 'Retry-After': '30' } } : null;
    const refused = await manager.syncToDatabase(USER, true);
    assert.equal(refused.status, 'failed');
    assert.equal(refused.httpStatus, status);
    assert.equal(refused.error.code, code);
    assert.equal(refused.retryInMs, 30_000);
    assert.equal(syncRequests(device), 1);
    const asked = await manager.syncToDatabase(USER, true);
    assert.equal(asked.status, 'scheduled');
    assert.ok(asked.retryInMs > 29_000 && asked.retryInMs <= 30_000, `${asked.retryInMs}`);
    // The core alone would have retried within seconds; nothing is sent before the 30 s.
    await device.time.advance(29_000);
    assert.equal(syncRequests(device), 1);
    assert.equal(device.server.creditedUnits(USER), 0n);
    await device.time.advance(1_500);
    assert.equal(syncRequests(device), 2);
    const credited = device.server.creditedUnits(USER);
    assert.ok(credited >= toUnits('0.01'), `${credited}`);
    await manager.setMining(USER, { active: false });
    const last = await manager.syncToDatabase(USER, true);
    assert.equal(last.status, 'synced');
    assert.equal(device.server.creditedUnits(USER), toUnits(last.state.currentEarnings), 'every local earning credited, once');
    await manager.dispose();
  });
}

test('Retry-After is read as delta-seconds and capped; anything else is ignored (the core backs off alone)', () => {
  assert.equal(retryAfterMs('30'), 30_000);
  assert.equal(retryAfterMs(' 0 '), 0);
  assert.equal(retryAfterMs('99999999'), MAX_RETRY_AFTER_MS);
  for (const header of [null, '', '-5', '1.5', 'Wed, 21 Oct 2026 07:28:00 GMT', '3e3', '12345678901']) {
    assert.equal(retryAfterMs(header), null, String(header));
  }
});
