// A long offline period is O(1): whatever its length, one tick accrues it, the stored record does
// not grow, and the next sync sends a constant number of ops (accrual up to the offline cap, the
// excess as one verification op). Prints ops, record bytes and the time of the catch-up tick.
import { loadCore } from '../js/core.js';
import { printTable } from './core-table.js';

const core = await loadCore();
const T0 = 1_700_000_000_000;
const HOUR = 3_600_000;

const rows = [];
for (const [label, offlineMs] of [
  ['1 minute', 60_000],
  ['1 hour', HOUR],
  ['8 hours (the cap)', 8 * HOUR],
  ['24 hours', 24 * HOUR],
  ['7 days', 7 * 24 * HOUR],
]) {
  const engine = core.createEngine({ userId: 42, clientId: 'bench', seed: 1 });
  engine.setRate('0.5');
  engine.setActive(true, { wall: T0, mono: 1000 });
  const recordBefore = engine.serialize().length;
  // The app was closed: a new page session, so performance.now() restarted.
  const started = process.hrtime.bigint();
  engine.tick({ wall: T0 + offlineMs, mono: 500 });
  const tickNs = Number(process.hrtime.bigint() - started);
  const state = engine.state();
  const recordAfter = engine.serialize().length;
  const request = engine.nextSyncRequest({ wall: T0 + offlineMs, mono: 500 }, { force: true });
  rows.push([
    label,
    state.currentEarnings,
    state.heldForVerification,
    request ? request.ops.length : 0,
    request ? request.ops.map((op) => op.type).join('+') : '-',
    recordBefore,
    recordAfter,
    (tickNs / 1000).toFixed(0),
  ]);
  engine.dispose();
}
printTable(
  'Offline period at 0.5 TON/h, caught up by one tick (cap 8 h)',
  ['offline', 'earnings', 'held for review', 'ops', 'op types', 'record B before', 'record B after', 'tick us'],
  rows,
);
