// A record is written after every change, so the engine keeps each audit entry's stored form
// instead of writing the whole log again (src/audit.h). What it writes must be exactly what a
// fresh write of the same engine gives: whatever happened in between (ticks coalesced into the
// last accrual entry in place, app-reported earnings, syncs sent and failed, mining switched, the
// log full and dropping its oldest entries, reloads), the record is byte for byte the one an engine
// restored from it writes (whose log has no stored forms yet), and it restores.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import fc from 'fast-check';

import { loadCore } from '../../../js/core.js';
import { EngineStepPlayer } from '../support/engine-steps.js';

const T0 = 1_700_000_000_000;
const USER = 31;
const CONFIG = { maxRatePerHour: '100000', auditCapacity: 20 };

const step = fc.oneof(
  fc.record({ kind: fc.constant('tick'), ms: fc.integer({ min: 0, max: 120_000 }) }),
  fc.record({ kind: fc.constant('earn'), ms: fc.integer({ min: 0, max: 5_000 }), amount: fc.constant('0.00000001') }),
  fc.record({ kind: fc.constant('mining'), active: fc.boolean() }),
  fc.record({ kind: fc.constant('sync-fails'), status: fc.constantFrom(0, 404, 503) }),
  fc.record({ kind: fc.constant('reload'), ms: fc.integer({ min: 0, max: 60_000 }) }),
);

test('Property 22: a record written from the audit entries\' kept forms is byte for byte a fresh write, and restores', async () => {
  const core = await loadCore();
  const create = () => core.createEngine({ userId: USER, clientId: 'c-rec', seed: 5, config: CONFIG });
  fc.assert(
    fc.property(fc.array(step, { minLength: 1, maxLength: 60 }), (steps) => {
      const player = new EngineStepPlayer(create(), T0);
      player.engine.setRate('3600');
      player.engine.setActive(true, player.now());
      try {
        for (const s of steps) {
          if (!player.play(s)) {
            const bytes = player.engine.serialize();
            player.engine.dispose();
            const restored = create();
            restored.restore(bytes);
            player.reloaded(restored, s.ms);
          }
          const { engine } = player;
          const written = engine.serialize();
          const fresh = create();
          try {
            fresh.restore(written);
            assert.deepEqual(fresh.serialize(), written);
            assert.deepEqual(fresh.audit(), engine.audit());
          } finally {
            fresh.dispose();
          }
        }
      } finally {
        player.engine.dispose();
      }
    }),
    { numRuns: 150, seed: 2212 },
  );
});
