// The engine through js/core.js: every argument error surfaces as the right EarningsError code
// (checked in JS and again at the raw boundary), a failed call changes nothing, handles are
// released (embind's own leak check: count_emval_handles before and after), and a disposed engine
// says so clearly.
import { test, describe, before, beforeEach, afterEach } from 'node:test';
import assert from 'node:assert/strict';
import fc from 'fast-check';

import { loadCore, EarningsError } from '../../../js/core.js';

const T0 = 1700000000000;
const runs = { numRuns: 150, seed: 424242 };

function throwsCode(fn, code) {
  assert.throws(fn, (error) => {
    assert.ok(error instanceof EarningsError, `expected an EarningsError, got ${error}`);
    assert.equal(error.code, code, error.message);
    return true;
  });
}

function at(seconds) {
  return { wall: T0 + seconds * 1000, mono: 5000 + seconds * 1000 };
}

const notSafeUserIds = [0, -1, 1.5, NaN, Infinity, -Infinity, 2 ** 53, 2 ** 64, '42', 42n, null, undefined, {}];
const notTimes = [-1, 0.5, NaN, Infinity, 2 ** 53, '1', 1n, null, undefined];

describe('engine binding', () => {
  let core;
  let engine;
  let handlesBefore;

  before(async () => {
    core = await loadCore();
  });

  beforeEach(() => {
    handlesBefore = core.liveHandleCount();
    engine = core.createEngine({ userId: 2 ** 52 + 7, clientId: 'c-test_1', seed: 99 });
  });

  afterEach(() => {
    engine.dispose();
    assert.equal(core.liveHandleCount(), handlesBefore, 'no embind handle leaked');
    assert.equal(core.liveEngineCount(), 0);
  });

  test('accrues, builds a request, serializes, and restores exactly', () => {
    engine.setRate('3.6');
    engine.setActive(true, at(0));
    assert.equal(engine.tick(at(60)), true);
    const state = engine.state();
    assert.equal(state.userId, 2 ** 52 + 7, 'a 53-bit Telegram id survives the boundary');
    assert.equal(state.currentEarnings, '0.06000000');
    const request = engine.nextSyncRequest(at(60), { force: true });
    assert.equal(request.clientId, 'c-test_1');
    assert.deepEqual(request.ops.map((op) => [op.id, op.amount]), [['c-test_1:1', '0.06000000']]);
    const bytes = engine.serialize();
    assert.ok(bytes instanceof Uint8Array);
    assert.equal(core.decodeRecord(bytes).u, 2 ** 52 + 7);
    core.detectCorruption(bytes, 2 ** 52 + 7);

    const twin = core.createEngine({ userId: 2 ** 52 + 7, clientId: 'c-test_1', seed: 99 });
    try {
      twin.restore(bytes);
      assert.deepEqual(twin.state(), engine.state());
      assert.deepEqual(twin.serialize(), bytes);
    } finally {
      twin.dispose();
    }
  });

  test('user ids that are not positive safe integers are USER_ID_INVALID', () => {
    for (const userId of notSafeUserIds) {
      throwsCode(() => core.createEngine({ userId, clientId: 'c', seed: 1 }), 'USER_ID_INVALID');
    }
    const bytes = engine.serialize();
    for (const userId of notSafeUserIds) {
      throwsCode(() => core.detectCorruption(bytes, userId), 'USER_ID_INVALID');
    }
  });

  test('client id, seed and config are checked before an engine exists', () => {
    for (const clientId of ['', 'a'.repeat(65), 'has space', 'c:1', 7, null, undefined]) {
      throwsCode(() => core.createEngine({ userId: 1, clientId, seed: 1 }), 'CONFIG_INVALID');
    }
    for (const seed of [-1, 1.5, 2 ** 32, NaN, '1', undefined]) {
      throwsCode(() => core.createEngine({ userId: 1, clientId: 'c', seed }), 'CONFIG_INVALID');
    }
    for (const config of [null, 'offlineCapMs', 5, { offlineCapMs: 'long' }, { noSuchKey: 1 }, { offlineCapMs: 1 }]) {
      throwsCode(() => core.createEngine({ userId: 1, clientId: 'c', seed: 1, config }), 'CONFIG_INVALID');
    }
    const cyclic = {};
    cyclic.self = cyclic;
    throwsCode(() => core.createEngine({ userId: 1, clientId: 'c', seed: 1, config: cyclic }), 'CONFIG_INVALID');
    throwsCode(() => core.createEngine({ userId: 1, clientId: 'c', seed: 1, config: { big: 1n } }), 'CONFIG_INVALID');
    assert.equal(core.liveEngineCount(), 1, 'only the beforeEach engine exists: failed creations freed theirs');
  });

  test('times that are not safe integers >= 0 are TIME_INVALID and change nothing', () => {
    engine.setRate('1');
    engine.setActive(true, at(0));
    const before = engine.serialize();
    for (const bad of notTimes) {
      for (const now of [{ wall: bad, mono: 0 }, { wall: T0, mono: bad }]) {
        throwsCode(() => engine.tick(now), 'TIME_INVALID');
        throwsCode(() => engine.addEarnings('0.001', now), 'TIME_INVALID');
        throwsCode(() => engine.setActive(false, now), 'TIME_INVALID');
        throwsCode(() => engine.syncDueInMs(now), 'TIME_INVALID');
        throwsCode(() => engine.nextSyncRequest(now), 'TIME_INVALID');
      }
    }
    for (const now of [null, undefined, T0, 'now', []]) {
      throwsCode(() => engine.tick(now), 'TIME_INVALID');
    }
    assert.deepEqual(engine.serialize(), before);
  });

  test('amounts: numbers, NaN, negative, huge and imprecise are refused and change nothing', () => {
    engine.setRate('360');
    engine.setActive(true, at(0));
    engine.tick(at(10));
    const before = engine.state();
    for (const amount of [0.001, NaN, Infinity, 1n, null, undefined, {}]) {
      throwsCode(() => engine.addEarnings(amount, at(10)), 'AMOUNT_MALFORMED');
    }
    throwsCode(() => engine.addEarnings('1e-3', at(10)), 'AMOUNT_MALFORMED');
    throwsCode(() => engine.addEarnings('-0.001', at(10)), 'AMOUNT_NEGATIVE');
    throwsCode(() => engine.addEarnings('0.000000001', at(10)), 'AMOUNT_PRECISION');
    throwsCode(() => engine.addEarnings('99999999999', at(10)), 'AMOUNT_OVERFLOW');
    throwsCode(() => engine.addEarnings('9999999999', at(10)), 'AMOUNT_EXCEEDS_BUDGET');
    assert.equal(engine.state().currentEarnings, before.currentEarnings);
    for (const rate of [1, NaN, null]) throwsCode(() => engine.setRate(rate), 'AMOUNT_MALFORMED');
    for (const rate of ['-1', 'fast', '1000000']) throwsCode(() => engine.setRate(rate), 'RATE_INVALID');
    assert.equal(engine.state().baseEarningRate, '360.00000000');
  });

  test('records: non-bytes, corrupt bytes and another user’s record are refused', () => {
    for (const notBytes of ['record', [1, 2, 3], new ArrayBuffer(4), null, undefined]) {
      throwsCode(() => engine.restore(notBytes), 'RECORD_CORRUPT');
      throwsCode(() => core.decodeRecord(notBytes), 'RECORD_CORRUPT');
    }
    const bytes = engine.serialize();
    const flipped = new Uint8Array(bytes);
    flipped[flipped.length - 1] ^= 0x40;
    throwsCode(() => engine.restore(flipped), 'RECORD_CORRUPT');
    throwsCode(() => core.decodeRecord(flipped), 'RECORD_CORRUPT');
    throwsCode(() => core.detectCorruption(flipped, 2 ** 52 + 7), 'RECORD_CORRUPT');
    const other = core.createEngine({ userId: 5, clientId: 'c', seed: 1 });
    try {
      throwsCode(() => other.restore(bytes), 'RECORD_USER_MISMATCH');
    } finally {
      other.dispose();
    }
  });

  test('Property 15: any corruption of a stored record read through the wasm engine is a RECORD_* error, never a crash or a half-load', () => {
    engine.setRate('2');
    engine.setActive(true, at(0));
    engine.tick(at(3600));
    engine.addEarnings('0.01', at(3600));
    const bytes = engine.serialize();
    const reader = core.createEngine({ userId: 2 ** 52 + 7, clientId: 'c-test_1', seed: 99 });
    const pristine = reader.state();
    try {
      fc.assert(
        fc.property(
          fc.integer({ min: 0, max: bytes.length - 1 }),
          fc.integer({ min: 1, max: 255 }),
          fc.integer({ min: 0, max: bytes.length }),
          (index, mask, cut) => {
            const damaged = new Uint8Array(bytes);
            damaged[index] ^= mask;
            for (const candidate of [damaged, bytes.subarray(0, cut === bytes.length ? cut - 1 : cut)]) {
              assert.throws(() => reader.restore(candidate), (error) => {
                assert.ok(['RECORD_CORRUPT', 'RECORD_VERSION', 'RECORD_USER_MISMATCH'].includes(error.code), error.code);
                return true;
              });
              assert.deepEqual(reader.state(), pristine, 'nothing half-loaded');
            }
          },
        ),
        runs,
      );
    } finally {
      reader.dispose();
    }
  });

  test('sync answers that are not objects or JSON are RESPONSE_INVALID', () => {
    engine.setRate('1');
    engine.setActive(true, at(0));
    engine.tick(at(60));
    engine.nextSyncRequest(at(60), { force: true });
    for (const response of [null, 7, '', '{', '[]', '{"results":"no"}']) {
      throwsCode(() => engine.applySyncResponse(response, at(61)), 'RESPONSE_INVALID');
    }
    for (const status of [-1, 1.5, 1000, '500', NaN]) {
      throwsCode(() => engine.applySyncFailure({ status }, at(61)), 'RESPONSE_INVALID');
    }
    const { retryInMs, failed } = engine.applySyncFailure({ status: 503 }, at(62));
    assert.ok(Number.isSafeInteger(retryInMs) && retryInMs >= 0);
    assert.equal(failed, false);
  });

  test('trimAudit keeps the newest entries and returns how many went; bad counts are CONFIG_INVALID', () => {
    engine.setRate('3.6');
    engine.setActive(true, at(0));
    engine.addEarnings('0.001', at(10));
    engine.tick(at(20));
    const before = engine.audit();
    const state = engine.state();
    for (const keep of [-1, 0.5, NaN, Infinity, 2 ** 53, '1', 1n, null, undefined]) {
      throwsCode(() => engine.trimAudit(keep), 'CONFIG_INVALID');
    }
    assert.deepEqual(engine.audit(), before, 'a refused trim changes nothing');
    assert.equal(engine.trimAudit(1), before.length - 1);
    assert.deepEqual(engine.audit(), before.slice(-1));
    assert.deepEqual(engine.state(), state);
    assert.equal(engine.trimAudit(0), 1);
    assert.deepEqual(engine.audit(), []);
  });

  test('raw boundary: the C++ side refuses unsafe doubles even without the JS checks', async () => {
    const { compileCoreWasm, instantiateCore } = await import('../../../js/loader.js');
    const { default: factory } = await import('../../../dist/earnings-core.mjs');
    const raw = await instantiateCore(factory, await compileCoreWasm());
    const handle = new raw._Engine();
    try {
      assert.equal(handle._tick(T0, 0), -1, 'an engine used before _init refuses');
      assert.equal(handle._lastError().code, 'STATE_INVALID');
      for (const userId of [0, -1, 1.5, NaN, Infinity, 2 ** 53]) {
        assert.equal(handle._init(userId, 'c', 1, '').code, 'USER_ID_INVALID', String(userId));
      }
      for (const seed of [-1, 0.5, 2 ** 32, NaN]) {
        assert.equal(handle._init(1, 'c', seed, '').code, 'CONFIG_INVALID', String(seed));
      }
      assert.equal(handle._init(1, 'c', 1, '').code, '');
      for (const bad of [-1, 0.5, NaN, Infinity, 2 ** 53]) {
        assert.equal(handle._tick(bad, 0), -1);
        assert.equal(handle._lastError().code, 'TIME_INVALID');
        assert.equal(handle._tick(0, bad), -1);
        assert.equal(handle._syncDueInMs(bad, 0), -1);
        assert.equal(handle._setActive(true, 0, bad).code, 'TIME_INVALID');
        assert.equal(handle._applySyncFailure(bad, '', 0, 0).code, 'RESPONSE_INVALID');
        assert.equal(handle._trimAudit(bad), -1);
        assert.equal(handle._lastError().code, 'CONFIG_INVALID');
      }
      assert.equal(raw._detectCorruption('', NaN).code, 'USER_ID_INVALID');
    } finally {
      handle.delete();
    }
  });

  test('a disposed engine throws ENGINE_DISPOSED; dispose twice is harmless', () => {
    const short = core.createEngine({ userId: 3, clientId: 'c', seed: 1 });
    assert.equal(core.liveEngineCount(), 2);
    short.dispose();
    short.dispose();
    assert.equal(short.disposed, true);
    assert.equal(core.liveEngineCount(), 1);
    for (const call of [
      () => short.tick(at(1)),
      () => short.state(),
      () => short.serialize(),
      () => short.setRate('1'),
      () => short.restore(new Uint8Array(0)),
      () => short.audit(),
    ]) {
      throwsCode(call, 'ENGINE_DISPOSED');
    }
  });

  test('Property: no call sequence leaks embind handles', () => {
    fc.assert(
      fc.property(
        fc.array(fc.constantFrom('tick', 'add', 'state', 'serialize', 'request', 'fail', 'audit', 'metrics', 'bad'), {
          maxLength: 30,
        }),
        (calls) => {
          const before = core.liveHandleCount();
          const subject = core.createEngine({ userId: 11, clientId: 'c', seed: 3 });
          subject.setRate('36');
          subject.setActive(true, at(0));
          let second = 0;
          for (const call of calls) {
            second += 5;
            const now = at(second);
            if (call === 'tick') subject.tick(now);
            if (call === 'add') {
              try {
                subject.addEarnings('0.01', now);
              } catch (error) {
                assert.equal(error.code, 'AMOUNT_EXCEEDS_BUDGET');
              }
            }
            if (call === 'state') subject.state();
            if (call === 'serialize') core.decodeRecord(subject.serialize());
            if (call === 'request') subject.nextSyncRequest(now, { force: true });
            if (call === 'fail') subject.applySyncFailure({ status: 0 }, now);
            if (call === 'audit') subject.audit();
            if (call === 'metrics') subject.metrics();
            if (call === 'bad') throwsCode(() => subject.tick({ wall: -1, mono: 0 }), 'TIME_INVALID');
          }
          subject.dispose();
          assert.equal(core.liveHandleCount(), before);
        },
      ),
      { numRuns: 100, seed: 7 },
    );
  });
});
