// A trap inside the wasm (simulated: the raw method throws WebAssembly.RuntimeError as a trapping
// instance does) must stop that core for good: nothing more is read from or stored out of memory
// in an unknown state, every later call says CORE_FAULT, and loadCore() hands out a fresh core.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFile } from 'node:fs/promises';

import { loadCore, EarningsError } from '../../../js/core.js';
import createEarningsCore from '../../../dist/earnings-core.mjs';

const wasmBytes = await readFile(new URL('../../../dist/earnings-core.wasm', import.meta.url));

function throwsCode(fn, code) {
  assert.throws(fn, (error) => {
    assert.ok(error instanceof EarningsError, `expected an EarningsError, got ${error}`);
    assert.equal(error.code, code, error.message);
    return true;
  });
}

// A build whose tick traps once it has been armed.
function trappingFactory(armed) {
  return async (moduleArg) => {
    const raw = await createEarningsCore(moduleArg);
    const tick = raw._Engine.prototype._tick;
    raw._Engine.prototype._tick = function trappingTick(...args) {
      if (armed.now) throw new WebAssembly.RuntimeError('memory access out of bounds');
      return tick.apply(this, args);
    };
    return raw;
  };
}

test('a trap stops the core: CORE_FAULT from then on, and loadCore() starts a fresh one', async () => {
  const armed = { now: false };
  const wasmBinary = new Uint8Array(wasmBytes);
  const core = await loadCore({ wasmBinary, moduleFactory: trappingFactory(armed) });
  const engine = core.createEngine({ userId: 77, clientId: 'c', seed: 1 });
  const other = core.createEngine({ userId: 78, clientId: 'c', seed: 1 });
  engine.setRate('1');
  assert.equal(engine.tick({ wall: 1000, mono: 1000 }), false);
  assert.equal(core.faulted, false);

  armed.now = true;
  assert.throws(() => engine.tick({ wall: 2000, mono: 2000 }), (error) => {
    assert.equal(error.code, 'CORE_FAULT');
    assert.ok(error.cause instanceof WebAssembly.RuntimeError);
    assert.match(error.message, /loadCore\(\) again/);
    return true;
  });
  assert.equal(core.faulted, true);
  throwsCode(() => engine.serialize(), 'CORE_FAULT');
  throwsCode(() => other.state(), 'CORE_FAULT');
  throwsCode(() => core.parseAmount('1'), 'CORE_FAULT');
  throwsCode(() => core.createEngine({ userId: 79, clientId: 'c', seed: 1 }), 'CORE_FAULT');
  engine.dispose();
  other.dispose();
  assert.equal(core.liveEngineCount(), 0);

  const fresh = await loadCore({ wasmBinary, moduleFactory: trappingFactory({ now: false }) });
  assert.notEqual(fresh, core);
  assert.equal(fresh.faulted, false);
  const again = fresh.createEngine({ userId: 77, clientId: 'c', seed: 1 });
  again.setRate('1');
  again.tick({ wall: 1000, mono: 1000 });
  again.dispose();
});

test('errors that are not traps pass through and do not stop the core', async () => {
  const core = await loadCore();
  throwsCode(() => core.parseAmount('x'), 'AMOUNT_MALFORMED');
  assert.equal(core.faulted, false);
  assert.equal(core.parseAmount('1'), '1.00000000');
});
