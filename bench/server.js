// Sync server throughput and latency on loopback against a real PostgreSQL, next to what the same
// cluster does under `pgbench -N` in the same run (npm run bench:server). Prints tables; asserts
// nothing. Without DATABASE_URL it starts a throwaway PostgreSQL 15 cluster (default durability:
// fsync on, one WAL flush per commit, like production) through scripts/pg-throwaway.sh.
//
//   BENCH_SECONDS=10   length of each timed phase
//   BENCH_ONLY=topology   only the table of processes behind haproxy
import { execFileSync, spawn, spawnSync } from 'node:child_process';
import fs from 'node:fs';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import readline from 'node:readline';
import { fileURLToPath } from 'node:url';

import pg from 'pg';

import { freePort, startBalancer } from './balancer.js';
import { createDatabase, requirePostgres } from './support/postgres.js';

const ROOT = path.join(path.dirname(fileURLToPath(import.meta.url)), '..');
const PG_BIN = process.env.PG_BIN ?? '/usr/lib/postgresql/15/bin';
const SECONDS = Number(process.env.BENCH_SECONDS ?? 10);
const PGBENCH_CLIENTS = 8;
// pgbench again with many clients, to set the many-users syncs beside it (PostgreSQL's default
// max_connections is 100, so that is as many as pgbench can open).
const PGBENCH_MANY_CLIENTS = 90;
// The latency a concurrency level must keep to count for the server's peak throughput.
const PEAK_P99_MS = 100;
// Processes behind haproxy: how many, and the closed-loop single-op users loading them.
const TOPOLOGY_PROCESSES = [1, 2, 4];
const TOPOLOGY_USERS = 64;

requirePostgres();

function pgbench(clients, { initialise = false } = {}) {
  const url = new URL(process.env.DATABASE_URL);
  const env = { ...process.env, PGHOST: url.hostname, PGPORT: url.port, PGUSER: url.username, PGDATABASE: 'pgbench' };
  if (initialise) execFileSync(path.join(PG_BIN, 'pgbench'), ['-i', '-q', '-s', '1'], { env, stdio: 'ignore' });
  const postgresCpu = () => cpuOf(postgresPids());
  // pgbench's own CPU shows up in this process's children's time once it has been waited for.
  const cpuBefore = postgresCpu();
  const clientCpuBefore = cpuSeconds(process.pid);
  const out = execFileSync(
    path.join(PG_BIN, 'pgbench'),
    ['-N', '-c', String(clients), '-j', '2', '-T', String(SECONDS)],
    { env, encoding: 'utf8' },
  );
  const tps = Number(/tps = ([\d.]+) \(without initial connection time\)/.exec(out)?.[1]);
  const latency = Number(/latency average = ([\d.]+) ms/.exec(out)?.[1]);
  const transactions = Number(/number of transactions actually processed: (\d+)/.exec(out)?.[1]);
  const clientCpu = cpuSeconds(process.pid);
  return {
    clients,
    tps,
    latency,
    postgresCpuPerTxn: (postgresCpu() - cpuBefore) / transactions,
    clientCpuPerTxn: clientCpu === null || clientCpuBefore === null ? null : (clientCpu - clientCpuBefore) / transactions,
  };
}

function startServer(databaseUrl, { port = 0, commitGroups = 2 } = {}) {
  const child = spawn(process.execPath, [path.join(ROOT, 'server/main.js')], {
    env: {
      ...process.env,
      DATABASE_URL: databaseUrl,
      PORT: String(port),
      HOST: '127.0.0.1',
      DEV_IDENTITY: '1',
      // Claims below are tiny and the rate high, so every op takes the full crediting path
      // (applied, audited) rather than the shorter review path.
      DEFAULT_RATE_PER_HOUR: '1000',
      DB_POOL_SIZE: '16',
      // Each simulated user syncs back to back, hundreds of times a second: far past the per-user
      // rate limit, which guards against such clients and is off here.
      USER_REQUESTS_PER_S: '0',
      // The bench drives the server to its peak on a shared machine on purpose; shedding that load
      // would end the run. What the check costs per request is in bench/http-layer.js.
      MAX_EVENT_LOOP_DELAY_MS: '0',
      COMMIT_GROUPS: String(commitGroups),
    },
    stdio: ['ignore', 'pipe', 'inherit'],
  });
  const url = new Promise((resolve, reject) => {
    readline.createInterface({ input: child.stdout }).on('line', (line) => {
      const entry = JSON.parse(line);
      if (entry.url) resolve(entry.url);
    });
    child.once('exit', (code) => reject(new Error(`server exited with ${code}`)));
  });
  return { child, url };
}

function stopServer({ child }) {
  if (child.exitCode !== null || child.signalCode !== null) return Promise.resolve();
  const exited = new Promise((resolve) => child.once('exit', resolve));
  child.kill('SIGTERM');
  return exited;
}

// The load generator: one keep-alive socket per simulated client, writing each request whole and
// reading the answer by its Content-Length (the server always sends one). Node's http client
// spent about 150 us of CPU per request on this 2-core machine, CPU taken from the server and
// PostgreSQL under test, where pgbench's own client is C; this one spends about half that.
function createClient(baseUrl) {
  const { hostname, port } = new URL(baseUrl);
  return function connect() {
    const socket = net.connect(Number(port), hostname);
    socket.setNoDelay(true);
    let waiting = null;
    let received = Buffer.alloc(0);
    const fail = (error) => {
      waiting?.reject(error);
      waiting = null;
    };
    socket.on('error', fail);
    socket.on('close', () => fail(new Error('the server closed the connection')));
    socket.on('data', (chunk) => {
      received = received.length === 0 ? chunk : Buffer.concat([received, chunk]);
      const headEnd = received.indexOf('\r\n\r\n');
      if (headEnd < 0) return;
      const head = received.subarray(0, headEnd).toString('latin1');
      const length = /\r\ncontent-length: *(\d+)/i.exec(head);
      if (!length) {
        fail(new Error(`an answer without Content-Length: ${head}`));
        return;
      }
      const end = headEnd + 4 + Number(length[1]);
      if (received.length < end) return;
      const status = Number(head.slice(9, 12));
      const body = received.subarray(headEnd + 4, end).toString('utf8');
      received = received.subarray(end);
      const { resolve, reject } = waiting;
      waiting = null;
      if (status !== 200) reject(new Error(`HTTP ${status}: ${body}`));
      else resolve(JSON.parse(body));
    });
    return {
      post(pathname, auth, body) {
        const text = JSON.stringify(body);
        return new Promise((resolve, reject) => {
          waiting = { resolve, reject };
          socket.write(
            `POST ${pathname} HTTP/1.1\r\nHost: ${hostname}\r\nAuthorization: ${auth}\r\n` +
              `Content-Type: application/json\r\nContent-Length: ${Buffer.byteLength(text)}\r\n\r\n${text}`,
          );
        });
      },
      close: () => socket.destroy(),
    };
  };
}

let nextUser = 1;
// A simulated client on its own connection: syncOnce() sends its next ops, close() hangs up.
function newSyncer(connect, opsPerRequest) {
  const { post, close } = connect();
  const userId = nextUser;
  nextUser += 1;
  const clientId = `bench-${userId}`;
  let seq = 0;
  let covered = Date.now();
  async function syncOnce() {
    const now = Date.now();
    const ops = [];
    for (let i = 0; i < opsPerRequest; i += 1) {
      seq += 1;
      ops.push({ id: `${clientId}:${seq}`, seq, type: 'accrual', amount: '0.00000001', from: covered, to: now, rate: '1000' });
      covered = now;
    }
    const answer = await post('/v1/sync', `dev ${userId}`, { clientId, ops });
    if (answer.results.some((r) => r.status !== 'applied')) throw new Error(`unexpected ${JSON.stringify(answer.results[0])}`);
  }
  syncOnce.close = close;
  return syncOnce;
}

// CPU seconds a process has used (Linux /proc; its exited children included, which for the
// postmaster are the backends that closed), or null where /proc is missing.
function cpuSeconds(pid) {
  try {
    const fields = fs.readFileSync(`/proc/${pid}/stat`, 'utf8').split(') ')[1].split(' ');
    const ticks = [11, 12, 13, 14].reduce((sum, i) => sum + Number(fields[i]), 0);
    return ticks / 100;
  } catch {
    return null;
  }
}

// The postmaster of the bench's cluster: the parent of a backend. Other clusters on the machine
// (other test runs) are not the bench's to count.
let postmaster = null;
async function findPostmaster() {
  const client = new pg.Client({ connectionString: process.env.DATABASE_URL });
  await client.connect();
  const { rows } = await client.query('SELECT pg_backend_pid() AS pid');
  postmaster = Number(fs.readFileSync(`/proc/${rows[0].pid}/stat`, 'utf8').split(') ')[1].split(' ')[1]);
  await client.end();
}

// The PostgreSQL processes of the cluster: the postmaster and its children (backends, WAL writer...).
function postgresPids() {
  const out = spawnSync('pgrep', ['-P', String(postmaster)], { encoding: 'utf8' }).stdout ?? '';
  return [postmaster, ...out.split('\n').filter(Boolean).map(Number)];
}

// A process that ended since it was listed (a PostgreSQL backend) counts as nothing more.
const cpuOf = (pids) => pids.reduce((sum, pid) => sum + (cpuSeconds(pid) ?? 0), 0);

// CPU used while `work` runs by the load generator (this process), each group of `pids` (the
// server processes, the balancer) and PostgreSQL: [generator, ...groups, PostgreSQL].
async function measureCpu(groups, work) {
  const sample = () => [cpuSeconds(process.pid), ...groups.map(cpuOf), cpuOf(postgresPids())];
  const before = sample();
  const result = await work();
  const after = sample();
  return { result, cpu: after.map((value, i) => (value === null || before[i] === null ? null : value - before[i])) };
}

const percentile = (sorted, p) => sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))];

// `users` closed-loop users for `seconds`; each sends its next request when the previous answered.
async function closedLoop(connect, { users, opsPerRequest, seconds }) {
  const syncers = Array.from({ length: users }, () => newSyncer(connect, opsPerRequest));
  const latencies = [];
  const deadline = performance.now() + seconds * 1000;
  const started = performance.now();
  await Promise.all(
    syncers.map(async (syncOnce) => {
      while (performance.now() < deadline) {
        const t0 = performance.now();
        await syncOnce();
        latencies.push(performance.now() - t0);
      }
    }),
  );
  const elapsed = (performance.now() - started) / 1000;
  for (const syncOnce of syncers) syncOnce.close();
  latencies.sort((a, b) => a - b);
  return {
    requests: latencies.length,
    perSecond: latencies.length / elapsed,
    p50: percentile(latencies, 50),
    p99: percentile(latencies, 99),
  };
}

// One client: 100 single-op requests in a row versus one 100-op request, alternated.
async function batchVersusSingles(connect, rounds) {
  let singles = 0;
  let batches = 0;
  const single = newSyncer(connect, 1);
  const batch = newSyncer(connect, 100);
  for (let round = 0; round < rounds; round += 1) {
    let t0 = performance.now();
    for (let i = 0; i < 100; i += 1) await single();
    singles += performance.now() - t0;
    t0 = performance.now();
    await batch();
    batches += performance.now() - t0;
  }
  single.close();
  batch.close();
  return { singlesMs: singles / rounds, batchMs: batches / rounds };
}

function table(title, header, rows) {
  const cells = [header, ...rows].map((row) => row.map(String));
  const widths = header.map((_, i) => Math.max(...cells.map((row) => row[i].length)));
  const line = (row) => `| ${row.map((cell, i) => cell.padStart(widths[i])).join(' | ')} |`;
  console.log(`\n${title}\n${line(cells[0])}\n|${widths.map((w) => '-'.repeat(w + 2)).join('|')}|`);
  for (const row of cells.slice(1)) console.log(line(row));
}

const fixed = (value, digits = 1) => value.toFixed(digits);

async function main() {
  // The machine's load is printed with the tables: on a shared box it moves the numbers more
  // than any change to the server does.
  const load = () => os.loadavg().map((value) => value.toFixed(1)).join(' ');
  console.log(`server bench: PostgreSQL on loopback, ${SECONDS} s phases, node ${process.version}, ${os.cpus().length} cores, load average ${load()}`);
  await createDatabase('pgbench');
  await findPostmaster();
  if (process.env.BENCH_ONLY === 'topology') {
    await topology(await createDatabase('earnings_topology'));
    return;
  }
  const pgb = pgbench(PGBENCH_CLIENTS, { initialise: true });
  const pgbMany = pgbench(PGBENCH_MANY_CLIENTS);
  const server = startServer(await createDatabase('earnings_bench'));
  try {
    const url = await server.url;
    const connect = createClient(url);
    // Warm-up: JIT and wasm tier-up in the server, a prepared statement per pooled connection,
    // and PostgreSQL settling after pgbench's writes.
    await closedLoop(connect, { users: PGBENCH_CLIENTS, opsPerRequest: 1, seconds: Math.max(2, SECONDS / 3) });
    const { result: single, cpu } = await measureCpu([[server.child.pid]], () =>
      closedLoop(connect, { users: PGBENCH_CLIENTS, opsPerRequest: 1, seconds: SECONDS }),
    );
    const batched = await closedLoop(connect, { users: PGBENCH_CLIENTS, opsPerRequest: 100, seconds: SECONDS });
    table(
      `Throughput, ${PGBENCH_CLIENTS} concurrent clients (pgbench -N -c ${PGBENCH_CLIENTS} -j 2 on the same cluster)`,
      ['workload', 'requests/s', 'ops/s', 'p50 ms', 'p99 ms', 'vs pgbench TPS'],
      [
        ['pgbench -N (1 txn = 5 statements)', fixed(pgb.tps), fixed(pgb.tps), fixed(pgb.latency, 2), '-', '1.00'],
        ['POST /v1/sync, 1 op', fixed(single.perSecond), fixed(single.perSecond), fixed(single.p50, 2), fixed(single.p99, 2), fixed(single.perSecond / pgb.tps, 2)],
        ['POST /v1/sync, 100 ops', fixed(batched.perSecond), fixed(batched.perSecond * 100), fixed(batched.p50, 2), fixed(batched.p99, 2), fixed(batched.perSecond / pgb.tps, 2)],
      ],
    );
    const perRequest = (seconds) => (seconds === null ? '-' : fixed((seconds / single.requests) * 1e6, 0));
    table('CPU per transaction or request, microseconds (2 cores in all)', ['workload', 'load generator', 'server', 'PostgreSQL'], [
      ['pgbench -N', pgb.clientCpuPerTxn === null ? '-' : fixed(pgb.clientCpuPerTxn * 1e6, 0), '-', fixed(pgb.postgresCpuPerTxn * 1e6, 0)],
      ['POST /v1/sync, 1 op', ...cpu.map(perRequest)],
    ]);
    const versus = await batchVersusSingles(connect, 10);
    table('One client: 100 single-op requests in a row vs one 100-op request (mean of 10 rounds)', ['100 x 1 op, ms', '1 x 100 ops, ms', 'speed-up'], [
      [fixed(versus.singlesMs), fixed(versus.batchMs, 2), `${fixed(versus.singlesMs / versus.batchMs)} x`],
    ]);
    const scaling = [];
    const levels = [{ users: PGBENCH_CLIENTS, ...single }];
    for (const users of [1, 10, 100, 1000]) {
      const result = await closedLoop(connect, { users, opsPerRequest: 1, seconds: Math.max(3, SECONDS / 2) });
      levels.push({ users, ...result });
      const versusPgbench = users >= PGBENCH_MANY_CLIENTS ? result.perSecond / pgbMany.tps : result.perSecond / pgb.tps;
      scaling.push([users, fixed(result.perSecond), fixed(result.p50, 2), fixed(result.p99, 2), fixed(versusPgbench, 2)]);
    }
    table(
      `How the cost grows: single-op sync, closed-loop concurrent users (pgbench -N: ${fixed(pgb.tps)} TPS with ${PGBENCH_CLIENTS} clients, ${fixed(pgbMany.tps)} with ${PGBENCH_MANY_CLIENTS})`,
      ['users', 'requests/s', 'p50 ms', 'p99 ms', `vs pgbench TPS (${PGBENCH_CLIENTS} clients up to 10 users, ${PGBENCH_MANY_CLIENTS} from 100)`],
      scaling,
    );
    // Throughput against throughput: pgbench peaks at a few clients on two cores, the server only
    // once commit groups fill, so each is taken at the concurrency where it does best (the
    // server's levels limited to those answering 99% of syncs within PEAK_P99_MS).
    const pgbenchBest = pgb.tps >= pgbMany.tps ? pgb : pgbMany;
    const serverBest = levels.filter((level) => level.p99 <= PEAK_P99_MS).reduce((best, level) => (level.perSecond > best.perSecond ? level : best));
    table(
      `Peak throughput: each at its best concurrency (server: levels with p99 <= ${PEAK_P99_MS} ms)`,
      ['system', 'concurrency', 'per second', 'p99 ms', 'vs pgbench best'],
      [
        ['pgbench -N, transactions', `${pgbenchBest.clients} clients`, fixed(pgbenchBest.tps), '-', '1.00'],
        ['POST /v1/sync, 1 op, requests', `${serverBest.users} users`, fixed(serverBest.perSecond), fixed(serverBest.p99, 2), fixed(serverBest.perSecond / pgbenchBest.tps, 2)],
      ],
    );
  } finally {
    await stopServer(server);
  }
  await topology(await createDatabase('earnings_topology'));
  console.log(`\nload average at the end: ${load()}`);
}

// Transactions committed in the database so far. PostgreSQL publishes a backend's counts when it
// goes idle, at most a second late, so over a timed phase this is close, not exact.
async function commits(databaseUrl) {
  const client = new pg.Client({ connectionString: databaseUrl });
  await client.connect();
  const { rows } = await client.query('SELECT xact_commit::text AS n FROM pg_stat_database WHERE datname = current_database()');
  await client.end();
  return Number(rows[0].n);
}

// 1, 2 and 4 server processes behind haproxy (bench/balancer.js), each routing: requests/s and
// CPU per sync of the servers, haproxy and PostgreSQL under TOPOLOGY_USERS closed-loop single-op
// users. With hashing, a user's syncs reach the process whose row cache holds its row; round
// robin sends them anywhere, so most syncs read the row again or plan twice. The processes share
// one process's COMMIT_GROUPS (2) between them, at least 1 each (README "Many processes"), and
// 2 processes run once more with 2 each, the default, to show what that costs PostgreSQL.
async function topology(databaseUrl) {
  const measured = [];
  const setups = [
    ...TOPOLOGY_PROCESSES.map((count) => ({ count, commitGroups: Math.max(1, Math.round(2 / count)), routings: ['hashed', 'round robin'] })),
    { count: 2, commitGroups: 2, routings: ['hashed'] },
  ];
  for (const { count, commitGroups, routings } of setups) {
    const ports = await Promise.all(Array.from({ length: count }, freePort));
    const servers = ports.map((port) => startServer(databaseUrl, { port, commitGroups }));
    let balancer = null;
    try {
      await Promise.all(servers.map((server) => server.url));
      balancer = await startBalancer(ports);
      for (const routing of routings) {
        const connect = createClient(routing === 'hashed' ? balancer.hashed : balancer.roundRobin);
        const load = { users: TOPOLOGY_USERS, opsPerRequest: 1 };
        await closedLoop(connect, { ...load, seconds: Math.max(2, SECONDS / 3) });
        const commitsBefore = await commits(databaseUrl);
        const { result, cpu } = await measureCpu([servers.map((server) => server.child.pid), [balancer.pid]], () =>
          closedLoop(connect, { ...load, seconds: SECONDS }),
        );
        const transactions = (await commits(databaseUrl)) - commitsBefore;
        measured.push({ count, commitGroups, routing, result, cpu, transactions });
      }
    } finally {
      await balancer?.stop();
      await Promise.all(servers.map(stopServer));
    }
  }
  // One process is the yardstick, measured under both routings (which are the same for it).
  const alone = measured.filter((m) => m.count === 1);
  const alonePostgres = alone.reduce((sum, m) => sum + m.cpu[3], 0) / alone.reduce((sum, m) => sum + m.result.requests, 0);
  const rows = measured.map(({ count, commitGroups, routing, result, cpu, transactions }) => {
    const [, serverCpu, balancerCpu, postgresCpu] = cpu.map((seconds) => seconds / result.requests);
    return [
      count,
      commitGroups,
      routing,
      fixed(result.perSecond),
      fixed(result.p99, 2),
      fixed(result.requests / transactions, 1),
      fixed(serverCpu * 1e6, 0),
      fixed(balancerCpu * 1e6, 0),
      fixed(postgresCpu * 1e6, 0),
      fixed(postgresCpu / alonePostgres, 2),
    ];
  });
  table(
    `Server processes behind haproxy 2.6, ${TOPOLOGY_USERS} closed-loop users, single-op syncs (CPU in microseconds per sync)`,
    ['processes', 'COMMIT_GROUPS each', 'routing', 'requests/s', 'p99 ms', 'syncs per commit', 'servers CPU', 'haproxy CPU', 'PostgreSQL CPU', 'PostgreSQL vs 1 process'],
    rows,
  );
}

main().catch((error) => {
  console.error(error);
  process.exit(1);
});
