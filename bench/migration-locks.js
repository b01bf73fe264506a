// How long each migration stalls a live app while it upgrades the app's user_earnings table:
// 100,000 legacy rows (the app's columns only, no UNIQUE on user_id, some NULLs), then every
// migration (server/migrate.js) while two connections play the app still serving: one reads a
// random row by id, one updates one (as the app's backend does), back to back. For each step it
// prints how long the step took and the longest a read and a write of the app waited while it
// ran: the time the step held a lock the app's statement needed. Prints a table; asserts nothing.
// Without DATABASE_URL it starts a throwaway PostgreSQL 15 cluster (scripts/pg-throwaway.sh).
//
//   BENCH_ROWS=100000   legacy rows
//   BENCH_PREPARE=1     first run README's preparation ("Upgrading a live database": 002's
//                       columns, then every index the migrations would build (009, 021, 023),
//                       built CONCURRENTLY while the app runs), each step timed the same way
//   BENCH_PREBUILD_FAILS=1  with BENCH_PREPARE: the CONCURRENTLY build of idx_user_earnings_failing
//                       fails, as a cancelled one does, and leaves an INVALID index behind (what
//                       024 rebuilds): a transaction that holds the table open makes the build
//                       wait after creating the index, and its statement_timeout cancels it

import pg from 'pg';

import { openDatabase } from '../server/db.js';
import { migrate } from '../server/migrate.js';
import { createDatabase, requirePostgres } from './support/postgres.js';

const ROWS = Number(process.env.BENCH_ROWS ?? 100_000);
const BASELINE_MS = 2000;
const PREPARE = process.env.BENCH_PREPARE === '1';
const PREBUILD_FAILS = PREPARE && process.env.BENCH_PREBUILD_FAILS === '1';
const FAILING_PREBUILD = 'idx_user_earnings_failing';
// README, "Upgrading a live database", word for word.
const PREPARATION = [
  `ALTER TABLE user_earnings
ADD COLUMN IF NOT EXISTS start_date TIMESTAMP WITH TIME ZONE DEFAULT CURRENT_TIMESTAMP,
ADD COLUMN IF NOT EXISTS base_earning_rate NUMERIC(18,8) DEFAULT 0,
ADD COLUMN IF NOT EXISTS sync_status VARCHAR(20) DEFAULT 'synced',
ADD COLUMN IF NOT EXISTS last_sync_attempt TIMESTAMP WITH TIME ZONE,
ADD COLUMN IF NOT EXISTS retry_count INTEGER DEFAULT 0`,
  `CREATE UNIQUE INDEX CONCURRENTLY user_earnings_user_id_unique ON user_earnings (user_id)`,
  `CREATE UNIQUE INDEX CONCURRENTLY user_earnings_id_user_id ON user_earnings (id, user_id)`,
  `CREATE INDEX CONCURRENTLY IF NOT EXISTS idx_user_earnings_failing ON user_earnings (retry_count) WHERE sync_status = 'failed'`,
];

requirePostgres();

// The app's table and rows, values spread by a hash so that the run is the same every time.
async function buildLegacyTable(url) {
  const client = new pg.Client({ connectionString: url });
  await client.connect();
  await client.query(`CREATE TABLE user_earnings (
    id SERIAL PRIMARY KEY,
    user_id BIGINT,
    current_earnings NUMERIC(18,8) DEFAULT 0,
    earning_rate NUMERIC(18,8) DEFAULT 0,
    last_update TIMESTAMP WITH TIME ZONE DEFAULT CURRENT_TIMESTAMP,
    created_at TIMESTAMP WITH TIME ZONE DEFAULT CURRENT_TIMESTAMP,
    updated_at TIMESTAMP WITH TIME ZONE DEFAULT CURRENT_TIMESTAMP,
    total_earned NUMERIC(18,8) DEFAULT 0
  )`);
  await client.query(
    `INSERT INTO user_earnings (user_id, current_earnings, earning_rate, last_update, created_at, updated_at, total_earned)
     SELECT 5000000000 + n * 7919,
       CASE WHEN h % 10 = 0 THEN NULL ELSE (h % 100000000000)::numeric / 100000000 END,
       CASE WHEN h % 13 = 0 THEN NULL ELSE (h % 500000000)::numeric / 100000000 END,
       CASE WHEN h % 17 = 0 THEN NULL ELSE now() - (h % 2592000) * INTERVAL '1 second' END,
       now() - (h % 31536000) * INTERVAL '1 second',
       now() - (h % 2592000) * INTERVAL '1 second',
       CASE WHEN h % 11 = 0 THEN NULL ELSE (h % 1000000000000)::numeric / 100000000 END
     FROM (SELECT n, abs(hashint8(n)) AS h FROM generate_series(1, $1::bigint) AS n) AS g`,
    [ROWS],
  );
  await client.query('ANALYZE user_earnings');
  await client.end();
}

// One connection doing `statement` back to back on random rows until stopped; every op's start
// and end (ms, performance.now()).
async function startApp(url, statement) {
  const client = new pg.Client({ connectionString: url });
  await client.connect();
  const ops = [];
  let running = true;
  let seed = 12345;
  const nextId = () => {
    seed = (seed * 1103515245 + 12345) % 2147483648;
    return 1 + (seed % ROWS);
  };
  const loop = (async () => {
    while (running) {
      const start = performance.now();
      await client.query({ name: 'probe', text: statement, values: [nextId()] });
      ops.push({ start, end: performance.now() });
    }
  })();
  return {
    ops,
    async stop() {
      running = false;
      await loop;
      await client.end();
    },
  };
}

const longestWait = (ops, from, to) =>
  ops.reduce((longest, op) => (op.start < to && op.end > from ? Math.max(longest, op.end - op.start) : longest), 0);
const overlapping = (ops, from, to) => ops.filter((op) => op.start < to && op.end > from).length;

// The operator's CONCURRENTLY build of `statement` cancelled midway: the index exists, INVALID.
// A build waits, after creating the index, for every transaction that could write the table;
// one that holds ROW EXCLUSIVE (as any writer does, and which the app's writes do not conflict
// with) keeps it waiting until its statement_timeout cancels it.
async function failedPrebuild(url, operator, statement) {
  const holder = new pg.Client({ connectionString: url });
  await holder.connect();
  await holder.query('BEGIN');
  await holder.query('LOCK TABLE user_earnings IN ROW EXCLUSIVE MODE');
  await operator.query("SET statement_timeout = '1s'");
  const failed = await operator.query(statement).then(() => null, (error) => error);
  await operator.query('RESET statement_timeout');
  await holder.query('ROLLBACK');
  await holder.end();
  if (failed?.code !== '57014') throw new Error(`the prebuild of ${FAILING_PREBUILD} was meant to be cancelled: ${failed?.message ?? 'it succeeded'}`);
  const { rows } = await operator.query(
    'SELECT i.indisvalid FROM pg_index i JOIN pg_class c ON c.oid = i.indexrelid WHERE c.relname = $1',
    [FAILING_PREBUILD],
  );
  if (rows.length !== 1 || rows[0].indisvalid) throw new Error(`the cancelled prebuild left no invalid ${FAILING_PREBUILD}`);
}

const url = await createDatabase('migration_locks');
await buildLegacyTable(url);
const db = await openDatabase({ databaseUrl: url, poolSize: 4 });
const reader = await startApp(url, 'SELECT current_earnings, earning_rate FROM user_earnings WHERE id = $1');
const writer = await startApp(
  url,
  `UPDATE user_earnings SET current_earnings = current_earnings + 0.00000001, last_update = now() WHERE id = $1`,
);

const baselineFrom = performance.now();
await new Promise((resolve) => setTimeout(resolve, BASELINE_MS));
const steps = [{ name: '(no migration running)', from: baselineFrom, to: performance.now(), batches: '' }];
if (PREPARE) {
  const operator = new pg.Client({ connectionString: url });
  await operator.connect();
  for (const statement of PREPARATION) {
    const from = performance.now();
    if (PREBUILD_FAILS && statement.includes(FAILING_PREBUILD)) {
      await failedPrebuild(url, operator, statement);
    } else {
      await operator.query(statement);
    }
    const words = statement.split(/\s+/);
    steps.push({ name: `prepare: ${words.slice(0, 3).join(' ')} ${words.find((w) => w.startsWith('idx_') || w.startsWith('user_earnings_')) ?? ''}`.slice(0, 34), from, to: performance.now(), batches: '' });
  }
  await operator.end();
}
await migrate(db, {
  onApplied: ({ name, ms, batches }) => {
    const to = performance.now();
    steps.push({ name, from: to - ms, to, batches });
  },
});
await reader.stop();
await writer.stop();
await db.close();

const pad = (text, width) => String(text).padStart(width);
console.log(
  `Upgrade lock times: ${ROWS.toLocaleString('en')} legacy rows, PostgreSQL ${process.env.PGPORT ? 'throwaway cluster' : 'DATABASE_URL'}` +
    (PREPARE ? ', prepared beforehand (README)' : '') +
    (PREBUILD_FAILS ? `, the prebuild of ${FAILING_PREBUILD} cancelled (INVALID)` : ''),
);
console.log('');
console.log(`${'step'.padEnd(34)} ${pad('ms', 8)} ${pad('batches', 8)} ${pad('app read waited ms', 19)} ${pad('app write waited ms', 20)} ${pad('app ops', 8)}`);
for (const step of steps) {
  const ops = overlapping(reader.ops, step.from, step.to) + overlapping(writer.ops, step.from, step.to);
  console.log(
    `${step.name.padEnd(34)} ${pad((step.to - step.from).toFixed(1), 8)} ${pad(step.batches, 8)} ` +
      `${pad(longestWait(reader.ops, step.from, step.to).toFixed(1), 19)} ${pad(longestWait(writer.ops, step.from, step.to).toFixed(1), 20)} ${pad(ops, 8)}`,
  );
}
const all = steps.slice(1).filter((step) => !step.name.startsWith('prepare'));
console.log('');
console.log(
  `whole upgrade (the migrations): ${(all.at(-1).to - all[0].from).toFixed(0)} ms; longest app read wait ${longestWait(reader.ops, all[0].from, all.at(-1).to).toFixed(1)} ms, ` +
    `longest app write wait ${longestWait(writer.ops, all[0].from, all.at(-1).to).toFixed(1)} ms`,
);
