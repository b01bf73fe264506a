// Cost per call through the public JS API (argument checks + embind + C++), in ns/call, on one
// engine in one process after warm-up. Target for tick: < 2 us.
import { loadCore } from '../js/core.js';
import { printTable } from './core-table.js';

const core = await loadCore();
const engine = core.createEngine({ userId: 5_123_456_789, clientId: 'bench', seed: 1 });
const T0 = 1_700_000_000_000;
let ms = 0;
const now = () => ({ wall: T0 + ms, mono: ms });
engine.setRate('0.5');
engine.setActive(true, now());
// App-reported earnings draw on the time not already accrued, so they are measured on an engine
// whose automatic accrual is off.
const claims = core.createEngine({ userId: 5_123_456_790, clientId: 'bench', seed: 1 });
claims.setRate('36');
claims.tick(now());

function measure(label, iterations, call) {
  for (let i = 0; i < Math.min(iterations, 2000); i += 1) call(i);
  const started = process.hrtime.bigint();
  for (let i = 0; i < iterations; i += 1) call(i);
  const elapsed = Number(process.hrtime.bigint() - started);
  return [label, iterations, (elapsed / iterations).toFixed(0)];
}

// A pure-JS row to read the others against: on a loaded machine everything slows down together.
const baselineText = JSON.stringify({ userId: 42, currentEarnings: '1.50000000', isActive: true, lastUpdate: T0 });

const rows = [
  measure('(baseline) JSON.parse of a 4-key object, pure JS', 200_000, () => JSON.parse(baselineText)),
  measure('tick(now) (1 s steps)', 200_000, () => {
    ms += 1000;
    engine.tick(now());
  }),
  measure('tick(now) refused: TIME_INVALID', 100_000, () => {
    try {
      engine.tick({ wall: -1, mono: 0 });
    } catch {
      // the refusal is what is measured
    }
  }),
  measure("addEarnings('0.00000001', now) (app-reported, mining off)", 100_000, () => {
    ms += 1000;
    claims.addEarnings('0.00000001', now());
  }),
  measure("parseAmount('12.345')", 200_000, () => core.parseAmount('12.345')),
  measure('state() (JSON to object)', 50_000, () => engine.state()),
  measure('syncDueInMs(now)', 200_000, () => engine.syncDueInMs(now())),
  measure('serialize() (record bytes)', 5_000, () => engine.serialize()),
  measure('decodeRecord(bytes)', 5_000, () => core.decodeRecord(engine.serialize())),
];
engine.dispose();
claims.dispose();
printTable(`Calls through js/core.js (Node ${process.version})`, ['call', 'iterations', 'ns/call'], rows);
