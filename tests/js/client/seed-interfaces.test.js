// The seed's interfaces from JS (issue 12 part 4): SyncManager.queueSync and validateData,
// RecoveryManager.resolveConflicts and validateRecoveredData, on the core (pure functions of a
// state) and on the manager (`earnings.sync`, `earnings.recovery`), against the real wasm core and
// the fake sync server. Bad input is an answer or an EarningsError with a stable code, never a
// fault of the core (a property over generated values).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import fc from 'fast-check';
import { loadCore } from '../../../js/core.js';
import { createDevice } from '../support/harness.js';
import { toUnits } from '../support/fake-server.js';

const RATE = '36';
const T0 = 1_700_000_000_000;

function serverRow(overrides = {}) {
  return {
    userId: 5, totalEarned: '2.00000000', currentEarnings: '2.00000000', baseEarningRate: '1.00000000',
    pendingReview: '0.50000000', lastSeq: 0, lastUpdate: T0, startDate: T0, isActive: false, syncStatus: 'synced',
    ...overrides,
  };
}

async function engineWithPending(core) {
  const engine = core.createEngine({ userId: 5, clientId: 'c-seed', seed: 1 });
  engine.setRate(RATE);
  engine.tick({ wall: T0, mono: 0 });
  engine.addEarnings('0.001', { wall: T0 + 1000, mono: 1000 });
  return engine;
}

test('core.validateState: a state as state() gives it is valid; a broken invariant is STATE_INVALID for review', async () => {
  const core = await loadCore();
  const engine = await engineWithPending(core);
  const state = engine.state();
  assert.deepEqual(core.validateState(state), { ok: true, code: '', message: '', flagForReview: false });
  const broken = core.validateState({ ...state, currentEarnings: '5.00000000' });
  assert.equal(broken.ok, false);
  assert.equal(broken.code, 'STATE_INVALID');
  assert.equal(broken.flagForReview, true);
  assert.match(broken.message, /\S/);
  assert.equal(core.validateState({ ...state, pending: 0.001 }).code, 'STATE_INVALID', 'money as a number is not a state');
  assert.equal(core.validateState(null).ok, false);
  assert.equal(core.validateState({ userId: 5 }).ok, false);
  engine.dispose();
});

test('core.validateRecoveredData: a state rebuilt from the server passes; one that still owes earnings does not', async () => {
  const core = await loadCore();
  const engine = await engineWithPending(core);
  const owing = core.validateRecoveredData(engine.state());
  assert.equal(owing.ok, false);
  assert.equal(owing.code, 'STATE_INVALID');
  assert.match(owing.message, /pending/);

  const fresh = core.createEngine({ userId: 5, clientId: 'c-fresh', seed: 1 });
  fresh.recoverFromServer(JSON.stringify({ state: serverRow(), serverTime: T0 + 5000 }), { wall: T0 + 5000, mono: 5000 });
  const recovered = fresh.state();
  assert.equal(recovered.currentEarnings, '2.00000000');
  assert.deepEqual(core.validateRecoveredData(recovered), { ok: true, code: '', message: '', flagForReview: false });
  engine.dispose();
  fresh.dispose();
});

test('core.resolveConflicts: the server wins, pending earnings are rebased on it, and the engine is untouched', async () => {
  const core = await loadCore();
  const engine = await engineWithPending(core);
  const local = engine.state();
  const resolved = core.resolveConflicts(local, serverRow());
  assert.equal(resolved.syncedTotal, '2.00000000');
  assert.equal(resolved.pending, local.pending);
  assert.equal(resolved.currentEarnings, '2.00100000');
  assert.equal(resolved.underReview, '0.50000000');
  assert.equal(resolved.baseEarningRate, '1.00000000', 'the server row\'s rate wins');
  assert.equal(resolved.reviewFlag, false);
  assert.deepEqual(engine.state(), local);
  assert.equal(core.validateState(resolved).ok, true);
  engine.dispose();
});

test('core.resolveConflicts: a server holding less than this device had confirmed sets reviewFlag', async () => {
  const core = await loadCore();
  const engine = core.createEngine({ userId: 5, clientId: 'c-lost', seed: 1 });
  engine.recoverFromServer(JSON.stringify({ state: serverRow({ totalEarned: '3.00000000', currentEarnings: '3.00000000' }), serverTime: T0 }),
    { wall: T0, mono: 0 });
  const local = engine.state();
  assert.equal(local.syncedTotal, '3.00000000');
  const tolerated = core.resolveConflicts(local, serverRow({ totalEarned: '2.99999999', currentEarnings: '2.99999999' }));
  assert.equal(tolerated.reviewFlag, false, 'within the tolerance at the local rate');
  const lost = core.resolveConflicts(local, serverRow({ totalEarned: '1.00000000', currentEarnings: '1.00000000' }));
  assert.equal(lost.reviewFlag, true);
  assert.equal(lost.syncedTotal, '1.00000000', 'the server still wins; the flag is for a person');
  engine.dispose();
});

test('core.resolveConflicts refuses another user\'s row, a malformed row or a malformed state with stable codes', async () => {
  const core = await loadCore();
  const engine = await engineWithPending(core);
  const local = engine.state();
  assert.throws(() => core.resolveConflicts(local, serverRow({ userId: 6 })), { code: 'RECORD_USER_MISMATCH' });
  assert.throws(() => core.resolveConflicts(local, serverRow({ totalEarned: 2 })), { code: 'RESPONSE_INVALID' });
  assert.throws(() => core.resolveConflicts(local, null), { code: 'RESPONSE_INVALID' });
  assert.throws(() => core.resolveConflicts({ ...local, syncedTotal: 'x' }, serverRow()), { code: 'STATE_INVALID' });
  assert.throws(() => core.resolveConflicts(local, serverRow(), { config: { toleranceMs: -1 } }), { code: 'CONFIG_INVALID' });
  engine.dispose();
});

test('the validators and resolveConflicts answer any value with a result or a stable error, never a core fault (100 runs)', async () => {
  const core = await loadCore();
  const engine = await engineWithPending(core);
  const local = engine.state();
  const codes = new Set(core.errorCodes);
  // Generated values, and valid states and rows with one field replaced by anything.
  const anyValue = fc.oneof(fc.anything(), fc.jsonValue());
  const mutated = (base) => fc.tuple(fc.constantFrom(...Object.keys(base)), anyValue)
    .map(([key, value]) => ({ ...base, [key]: value }));
  fc.assert(fc.property(fc.oneof(anyValue, mutated(local)), fc.oneof(anyValue, mutated(serverRow())), (state, row) => {
    for (const check of [core.validateState(state), core.validateRecoveredData(state)]) {
      assert.equal(typeof check.ok, 'boolean');
      if (!check.ok) assert.ok(codes.has(check.code), check.code);
    }
    try {
      const resolved = core.resolveConflicts(state, row);
      assert.equal(core.validateState(resolved).ok, true, 'what resolveConflicts returns is a valid state');
    } catch (error) {
      assert.ok(codes.has(error.code), `${error.code}: ${error.message}`);
    }
  }), { numRuns: 100, seed: 12 });
  assert.equal(core.faulted, false);
  engine.dispose();
});

test('earnings.sync.queueSync: the seed\'s operations run as updateEarnings, a sync and a reconciliation', async () => {
  const device = await createDevice();
  const { manager } = await device.openTab({ withTabs: false });
  const USER = 21;
  await manager.initializeUser(USER);
  await manager.setMining(USER, { active: false, rate: RATE });
  await device.time.advance(60_000);
  const before = toUnits(manager.state(USER).pending);

  await manager.sync.queueSync({ id: 'op-1', userId: USER, type: 'earnings_update', data: { amount: '0.0025' },
    timestamp: device.time.wallMs, retryCount: 0, maxRetries: 5 });
  assert.equal(toUnits(manager.state(USER).pending) - before, toUnits('0.0025'));
  await manager.dispose();
  const reopened = await device.openTab({ withTabs: false });
  const restored = await reopened.manager.initializeUser(USER);
  assert.equal(toUnits(restored.pending) - before, toUnits('0.0025'), 'stored when queueSync resolved');

  // Queued: sent now unless a sync is not due yet, and within the sync interval (60 s) in any case.
  await reopened.manager.sync.queueSync({ userId: USER, type: 'state_sync' });
  await device.time.advance(60_000);
  assert.equal(device.server.creditedUnits(USER), toUnits('0.0025'));
  assert.equal(reopened.manager.state(USER).syncStatus, 'synced');

  await reopened.manager.sync.queueSync({ userId: USER, type: 'reconciliation' });
  assert.equal(reopened.manager.state(USER).syncedTotal, '0.00250000');

  await assert.rejects(reopened.manager.sync.queueSync({ userId: USER, type: 'earnings_update', data: { amount: 0.001 } }),
    { code: 'AMOUNT_MALFORMED' });
  await assert.rejects(reopened.manager.sync.queueSync({ userId: USER, type: 'delete_everything' }), { code: 'REQUEST_INVALID' });
  await assert.rejects(reopened.manager.sync.queueSync(null), { code: 'REQUEST_INVALID' });
  await assert.rejects(reopened.manager.sync.queueSync({ userId: 999, type: 'state_sync' }), { code: 'USER_NOT_INITIALIZED' });
  assert.equal(device.server.creditedUnits(USER), toUnits('0.0025'), 'refused operations changed nothing');
  await reopened.manager.dispose();
});

test('earnings.sync.validateData and earnings.recovery.resolveConflicts / validateRecoveredData on a user\'s state', async () => {
  const device = await createDevice();
  const { manager } = await device.openTab({ withTabs: false });
  const USER = 22;
  await manager.initializeUser(USER);
  await manager.setMining(USER, { active: true, rate: RATE });
  await device.time.advance(30_000);
  await manager.syncToDatabase(USER, true);
  await device.time.advance(10_000);
  const local = manager.state(USER);
  assert.equal(manager.sync.validateData(local).ok, true);
  assert.equal(manager.sync.validateData({ ...local, userId: -1 }).ok, false);

  const row = device.server.stateOf(USER, 'any-client');
  const resolved = manager.recovery.resolveConflicts(local, row);
  assert.equal(resolved.syncedTotal, row.totalEarned);
  assert.equal(toUnits(resolved.currentEarnings), toUnits(row.totalEarned) + toUnits(local.pending));

  assert.equal(manager.recovery.validateRecoveredData(local).ok, false, 'mining since the sync: earnings are owed');
  const recovered = await manager.recovery.recoverFromDatabase(USER);
  assert.equal(typeof recovered.currentEarnings, 'string');
  await manager.dispose();
});
