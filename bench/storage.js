// What a sync leaves in PostgreSQL: bytes kept per sync in each table (heap and indexes, summed
// over partitions) and how many updates of the user's row were HOT (heap-only: no new index
// entries, the old version pruned in place). Prints tables; asserts nothing. Runs the server in
// process on a clock it moves (USERS users, each syncing one op per ROUNDS round, 10 minutes of
// mining apart), against a throwaway PostgreSQL 15 cluster unless DATABASE_URL is set.
//
//   node bench/storage.js        (npm run bench:storage)
//   BENCH_USERS=2000 BENCH_ROUNDS=10

import pg from 'pg';
import pino from 'pino';

import { createServer } from '../server/app.js';
import { loadServerCore } from '../server/core.js';
import { openDatabase } from '../server/db.js';
import { createDatabase, requirePostgres } from './support/postgres.js';

const USERS = Number(process.env.BENCH_USERS ?? 2000);
const ROUNDS = Number(process.env.BENCH_ROUNDS ?? 10);
const CONCURRENCY = 32;
const START_MS = Date.parse('2026-01-05T00:00:00Z');
const ROUND_MS = 10 * 60_000;

requirePostgres();

const TABLES = ['user_earnings', 'sync_client_sequences', 'sync_op_results', 'earnings_audit_log', 'earnings_review_queue', 'earnings_checkpoints'];

// Heap, index and TOAST bytes of each table that exists, summed over its partitions.
async function sizes(client) {
  const out = {};
  for (const table of TABLES) {
    const { rows } = await client.query(
      `SELECT SUM(pg_relation_size(relid))::bigint AS heap, SUM(pg_indexes_size(relid))::bigint AS indexes,
         SUM(pg_total_relation_size(relid) - pg_relation_size(relid) - pg_indexes_size(relid))::bigint AS toast
       FROM (SELECT relid FROM pg_partition_tree(to_regclass($1)) WHERE isleaf
             UNION SELECT c.oid FROM pg_class c WHERE c.oid = to_regclass($1) AND c.relkind = 'r') AS leaves(relid)`,
      [table],
    );
    if (rows[0].heap === null) continue;
    out[table] = { heap: Number(rows[0].heap), indexes: Number(rows[0].indexes), toast: Number(rows[0].toast) };
  }
  return out;
}

async function main() {
  const url = await createDatabase('earnings_storage');
  let now = START_MS;
  const db = await openDatabase({ databaseUrl: url, poolSize: 16 });
  const app = await createServer({
    db,
    core: await loadServerCore(),
    now: () => now,
    logger: pino({ level: 'silent' }),
    devIdentity: true,
    defaultRatePerHour: '1.00000000',
  });
  await app.listen(0, '127.0.0.1');
  const client = new pg.Client({ connectionString: url });
  await client.connect();

  const users = Array.from({ length: USERS }, (_, i) => 8_000_000 + i);
  // Client ids as the client package makes them: "c-" and 24 hex digits.
  const clientOf = (userId) => `c-${userId.toString(16).padStart(24, '0')}`;
  const post = async (userId, pathname, body) => {
    const response = await fetch(`${app.url}${pathname}`, {
      method: body ? 'POST' : 'GET',
      headers: { Authorization: `dev ${userId}`, 'Content-Type': 'application/json' },
      body: body ? JSON.stringify(body) : undefined,
    });
    if (response.status !== 200) throw new Error(`HTTP ${response.status}: ${await response.text()}`);
    return response.json();
  };
  const inParallel = async (work) => {
    let next = 0;
    await Promise.all(
      Array.from({ length: CONCURRENCY }, async () => {
        while (next < users.length) {
          const userId = users[next];
          next += 1;
          await work(userId);
        }
      }),
    );
  };

  await inParallel((userId) => post(userId, `/v1/state?clientId=${clientOf(userId)}`));
  // Each user's first sync creates its client sequence; measure from the second round on, so the
  // figure is what every further sync keeps.
  const round = async (r) => {
    now += ROUND_MS;
    await inParallel((userId) =>
      post(userId, '/v1/sync', {
        clientId: clientOf(userId),
        ops: [{ id: `${clientOf(userId)}:${r}`, seq: r, type: 'accrual', amount: '0.16666666', from: now - ROUND_MS, to: now, rate: '1.00000000' }],
      }),
    );
  };
  await round(1);
  await client.query('SELECT pg_stat_reset()');
  const before = await sizes(client);
  for (let r = 2; r <= ROUNDS; r += 1) await round(r);
  await app.close();
  await db.close();
  // A backend sends its statistics when it goes idle or exits; the server's connections are closed.
  const after = await sizes(client);
  const { rows: [stat] } = await client.query(
    `SELECT n_tup_upd::int AS updates, n_tup_hot_upd::int AS hot, n_dead_tup::int AS dead
     FROM pg_stat_user_tables WHERE relname = 'user_earnings'`,
  );
  const { rows: [{ fillfactor }] } = await client.query(
    `SELECT COALESCE((SELECT option_value FROM pg_options_to_table(reloptions) WHERE option_name = 'fillfactor'), '100') AS fillfactor
     FROM pg_class WHERE relname = 'user_earnings'`,
  );
  const { rows: indexes } = await client.query(
    `SELECT indexname FROM pg_indexes WHERE tablename = 'user_earnings' ORDER BY indexname`,
  );
  await client.end();

  const syncs = USERS * (ROUNDS - 1);
  console.log(`Bytes kept per sync (${USERS} users x ${ROUNDS - 1} syncs of one op, after each user's first; PostgreSQL ${process.env.PGPORT ? 'throwaway' : ''})`);
  console.log('| table | heap B/sync | indexes B/sync | toast B/sync | total B/sync |');
  console.log('|---|---:|---:|---:|---:|');
  let total = 0;
  for (const table of Object.keys(after)) {
    const d = (key) => (after[table][key] - (before[table]?.[key] ?? 0)) / syncs;
    const sum = d('heap') + d('indexes') + d('toast');
    total += sum;
    console.log(`| ${table} | ${d('heap').toFixed(1)} | ${d('indexes').toFixed(1)} | ${d('toast').toFixed(1)} | ${sum.toFixed(1)} |`);
  }
  console.log(`| all | | | | ${total.toFixed(1)} |`);
  console.log('');
  console.log(`user_earnings updates: ${stat.updates}, HOT: ${stat.hot} (${((100 * stat.hot) / Math.max(1, stat.updates)).toFixed(1)} %), dead tuples: ${stat.dead}; fillfactor ${fillfactor}; indexes: ${indexes.map((i) => i.indexname).join(', ')}`);
}

main().catch((error) => {
  console.error(error);
  process.exit(1);
});
