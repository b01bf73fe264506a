// Engine handles that their owner forgets: the FinalizationRegistry backup frees them after a
// garbage collection, and js/core.js still works (dispose() only) where FinalizationRegistry does
// not exist. Each case runs in its own node process so it can control the GC and the globals.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';

const coreUrl = new URL('../../../js/core.js', import.meta.url).href;

function runModule(source, nodeFlags = []) {
  return execFileSync(process.execPath, [...nodeFlags, '--input-type=module', '-e', source], {
    encoding: 'utf8',
  });
}

test('a forgotten engine is freed by the FinalizationRegistry after a collection', () => {
  const output = runModule(
    `
    const { loadCore } = await import(${JSON.stringify(coreUrl)});
    const core = await loadCore();
    (() => {
      for (let i = 0; i < 5; i += 1) core.createEngine({ userId: 1 + i, clientId: 'c', seed: i });
    })();
    const created = core.liveEngineCount();
    // Cleanup callbacks run in a later task after a collection; collect and yield until they ran.
    for (let round = 0; round < 50 && core.liveEngineCount() > 0; round += 1) {
      globalThis.gc();
      await new Promise((resolve) => setImmediate(resolve));
    }
    process.stdout.write(JSON.stringify({ created, left: core.liveEngineCount() }));
    `,
    ['--expose-gc'],
  );
  assert.deepEqual(JSON.parse(output), { created: 5, left: 0 });
});

test('without FinalizationRegistry the core loads and dispose() still frees', () => {
  const output = runModule(`
    delete globalThis.FinalizationRegistry;
    const { loadCore } = await import(${JSON.stringify(coreUrl)});
    const core = await loadCore();
    const handles = core.liveHandleCount();
    const engine = core.createEngine({ userId: 9, clientId: 'c', seed: 1 });
    engine.setRate('1');
    const during = core.liveEngineCount();
    engine.dispose();
    process.stdout.write(JSON.stringify({ during, after: core.liveEngineCount(), leaked: core.liveHandleCount() - handles }));
  `);
  assert.deepEqual(JSON.parse(output), { during: 1, after: 0, leaked: 0 });
});
