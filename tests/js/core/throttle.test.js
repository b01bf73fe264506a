// The core's UI throttle (Property 20, src/throttle.h) and the engine's client id through
// js/core.js: the wasm makes the decisions, the wrapper checks arguments and owns the handle.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import fc from 'fast-check';

import { loadCore, EarningsError } from '../../../js/core.js';

function throwsCode(fn, code) {
  assert.throws(fn, (error) => error instanceof EarningsError && error.code === code, code);
}

test('createUiThrottle: the first offer emits, offers inside the window wait exactly until it ends, then emit', async () => {
  const core = await loadCore();
  const throttle = core.createUiThrottle(1000);
  assert.deepEqual(throttle.offer(5_000), { emitNow: true, delayMs: 0 });
  assert.deepEqual(throttle.offer(5_200), { emitNow: false, delayMs: 800 });
  assert.deepEqual(throttle.offer(5_900), { emitNow: false, delayMs: 100 });
  assert.deepEqual(throttle.offer(6_000), { emitNow: true, delayMs: 0 });
  // A monotonic clock that restarted (a reload) is a new session: emit at once.
  assert.deepEqual(throttle.offer(10), { emitNow: true, delayMs: 0 });
  throttle.dispose();
  throttle.dispose();
  assert.equal(throttle.disposed, true);
  throwsCode(() => throttle.offer(7_000), 'ENGINE_DISPOSED');
});

test('createUiThrottle: emissions it allows are never closer than the interval, for any offer times', async () => {
  const core = await loadCore();
  await fc.assert(fc.property(
    fc.integer({ min: 1, max: 5_000 }),
    fc.array(fc.integer({ min: 0, max: 3_000 }), { minLength: 1, maxLength: 40 }),
    (interval, gaps) => {
      const throttle = core.createUiThrottle(interval);
      let now = 1_000;
      let last = null;
      for (const gap of gaps) {
        now += gap;
        const { emitNow, delayMs } = throttle.offer(now);
        if (emitNow) {
          if (last !== null) assert.ok(now - last >= interval);
          last = now;
        } else {
          assert.equal(delayMs, last + interval - now);
        }
      }
      throttle.dispose();
    },
  ), { numRuns: 100, seed: 2026 });
});

test('createUiThrottle refuses a bad interval with CONFIG_INVALID and a bad time with TIME_INVALID', async () => {
  const core = await loadCore();
  for (const interval of [0, -1, 1.5, NaN, Infinity, 2 ** 53, '1000', null]) {
    throwsCode(() => core.createUiThrottle(interval), 'CONFIG_INVALID');
  }
  const throttle = core.createUiThrottle();
  for (const now of [-1, 0.5, NaN, Infinity, 2 ** 53, '1', 1n, null, undefined]) {
    throwsCode(() => throttle.offer(now), 'TIME_INVALID');
  }
  // Nothing was recorded by the refused offers: the first valid one still emits.
  assert.deepEqual(throttle.offer(1), { emitNow: true, delayMs: 0 });
  throttle.dispose();
});

test('engine.clientId() is the id ops are numbered under, and after restore() the record\'s', async () => {
  const core = await loadCore();
  const first = core.createEngine({ userId: 3, clientId: 'c-record', seed: 1 });
  assert.equal(first.clientId(), 'c-record');
  const bytes = first.serialize();
  const second = core.createEngine({ userId: 3, clientId: 'c-other', seed: 1 });
  second.restore(bytes);
  assert.equal(second.clientId(), 'c-record');
  first.dispose();
  second.dispose();
  throwsCode(() => second.clientId(), 'ENGINE_DISPOSED');
});
