// The two builds of the core (wasm/CMakeLists.txt): the client module browsers download leaves
// the server's crediting planners out, and says so instead of faulting; the server's build has
// them and answers the same as the shared code paths of the client module.
import assert from 'node:assert/strict';
import { test } from 'node:test';

import { loadCore } from '../../../js/core.js';
import { loadServerCore } from '../../../server/core.js';

const ROW = {
  userId: 5, totalEarned: '1.00000000', currentEarnings: '1.00000000', baseEarningRate: '1.00000000',
  pendingReview: '0.00000000', budgetAnchor: 1_767_225_600_000, isActive: true, syncStatus: 'synced',
  lastUpdate: 1_767_225_600_000, startDate: 1_767_225_600_000, lastSeq: 0,
};
const NOW = ROW.budgetAnchor + 60_000;
const CREDIT = {
  row: ROW,
  request: { clientId: 'c', ops: [{ id: 'c:1', seq: 1, type: 'accrual', amount: '0.01000000', from: ROW.budgetAnchor, to: NOW, rate: '1' }] },
  serverNow: NOW,
  config: { offlineCapMs: 28_800_000, toleranceMs: 60_000, maxRatePerHour: '1000', maxBatch: 100 },
};

test('the client module has no crediting planners: CONFIG_INVALID, and the core keeps working', async () => {
  const core = await loadCore();
  for (const call of [() => core.planCredit(CREDIT), () => core.planReviewDecision({})]) {
    assert.throws(call, (error) => error.code === 'CONFIG_INVALID' && /server build/.test(error.message));
  }
  assert.equal(core.faulted, false);
  assert.equal(core.parseAmount('1.5'), '1.50000000');
});

test('the server build credits, and shares the client module\'s answers elsewhere', async () => {
  const [client, server] = await Promise.all([loadCore(), loadServerCore()]);
  const plan = server.planCredit(CREDIT);
  assert.deepEqual(plan.results.map((r) => [r.status, r.credited]), [['applied', '0.01000000']]);
  assert.equal(plan.row.totalEarned, '1.01000000');
  assert.equal(server.version, client.version);
  const cleanup = {
    activeUserId: 1, budgetBytes: 100, now: NOW,
    entries: [
      { key: 'teg:record:2', bytes: 80, state: { isActive: false, pending: '0.00000000', heldForVerification: '0.00000000', lastUpdate: 1 } },
      { key: 'teg:record:1', bytes: 60, state: { isActive: false, pending: '0.50000000', heldForVerification: '0.00000000', lastUpdate: 2 } },
    ],
  };
  const planned = client.planStorageCleanup(cleanup);
  assert.deepEqual(planned.evictions.map((e) => e.key), ['teg:record:2']);
  assert.deepEqual(server.planStorageCleanup(cleanup), planned);
});
