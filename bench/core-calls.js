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

function measure(label, iterations, call) {
  for (let i = 0; i < Math.min(iterations, 2000); i += 1) call(i);
  const started = process.hrtime.bigint();
  for (let i = 0; i < iterations; i += 1) call(i);
  const elapsed = Number(process.hrtime.bigint() - started);
  return [label, iterations, (elapsed / iterations).toFixed(0)];
}

const rows = [
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
  measure("addEarnings('0.00000001', now)", 100_000, () => {
    ms += 1000;
    engine.addEarnings('0.00000001', now());
  }),
  measure("parseAmount('12.345')", 200_000, () => core.parseAmount('12.345')),
  measure('state() (JSON to object)', 50_000, () => engine.state()),
  measure('syncDueInMs(now)', 200_000, () => engine.syncDueInMs(now())),
  measure('serialize() (record bytes)', 5_000, () => engine.serialize()),
  measure('decodeRecord(bytes)', 5_000, () => core.decodeRecord(engine.serialize())),
];
engine.dispose();
printTable(`Calls through js/core.js (Node ${process.version})`, ['call', 'iterations', 'ns/call'], rows);
