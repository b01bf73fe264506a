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

const T0 = 1_700_000_000_000;
const USER = 31;
const CONFIG = { maxRatePerHour: '100000', auditCapacity: 20 };

const step = fc.oneof(
  fc.record({ kind: fc.constant('tick'), ms: fc.integer({ min: 0, max: 120_000 }) }),
  fc.record({ kind: fc.constant('earn'), ms: fc.integer({ min: 0, max: 5_000 }) }),
  fc.record({ kind: fc.constant('mining'), active: fc.boolean() }),
  fc.record({ kind: fc.constant('sync-fails'), status: fc.constantFrom(0, 404, 503) }),
  fc.record({ kind: fc.constant('reload'), ms: fc.integer({ min: 0, max: 60_000 }) }),
);

test('Property 22: a record written from the audit entries\' kept forms is byte for byte a fresh write, and restores', async () => {
  const core = await loadCore();
  const create = () => core.createEngine({ userId: USER, clientId: 'c-rec', seed: 5, config: CONFIG });
  fc.assert(
    fc.property(fc.array(step, { minLength: 1, maxLength: 60 }), (steps) => {
      let engine = create();
      let wall = T0;
      let mono = 1_000;
      const now = () => ({ wall, mono });
      engine.setRate('3600');
      engine.setActive(true, now());
      try {
        for (const s of steps) {
          if (s.kind === 'tick' || s.kind === 'earn') {
            wall += s.ms;
            mono += s.ms;
            if (s.kind === 'tick') engine.tick(now());
            else if (s.ms > 0) engine.addEarnings('0.00000001', now());
          } else if (s.kind === 'mining') {
            engine.setActive(s.active, now());
          } else if (s.kind === 'sync-fails') {
            if (engine.nextSyncRequest(now(), { force: true })) engine.applySyncFailure({ status: s.status, body: '' }, now());
          } else {
            const bytes = engine.serialize();
            engine.dispose();
            engine = create();
            engine.restore(bytes);
            wall += s.ms;
            mono = 1_000;
          }
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
        engine.dispose();
      }
    }),
    { numRuns: 150, seed: 2212 },
  );
});
