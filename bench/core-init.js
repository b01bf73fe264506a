// Module start-up in Node: fresh processes, each timing import of js/core.js through loadCore()
// resolving (read + compile + instantiate + embind registration). Median of N; target < 30 ms.
import { execFileSync } from 'node:child_process';

import { median, printTable } from './core-table.js';

const runs = Number(process.env.BENCH_INIT_RUNS ?? 21);
const probe = `
const t0 = performance.now();
const { loadCore } = await import(${JSON.stringify(new URL('../js/core.js', import.meta.url).href)});
const t1 = performance.now();
const core = await loadCore();
const t2 = performance.now();
const engine = core.createEngine({ userId: 1, clientId: 'bench', seed: 1 });
engine.dispose();
const t3 = performance.now();
process.stdout.write(JSON.stringify([t1 - t0, t2 - t1, t3 - t2, t3 - t0]));
`;

const samples = [];
for (let run = 0; run < runs; run += 1) {
  samples.push(JSON.parse(execFileSync(process.execPath, ['--input-type=module', '-e', probe], { encoding: 'utf8' })));
}
const column = (index) => samples.map((sample) => sample[index]);
const ms = (value) => value.toFixed(2);
printTable(
  `Core start-up in a fresh Node ${process.version} process (ms, ${runs} processes; target < 30 ms)`,
  ['phase', 'median', 'min', 'max'],
  [
    ['import js/core.js', 0],
    ['loadCore() (read, compile, instantiate)', 1],
    ['first createEngine + dispose', 2],
    ['total', 3],
  ].map(([label, index]) => {
    const values = column(index);
    return [label, ms(median(values)), ms(Math.min(...values)), ms(Math.max(...values))];
  }),
);
