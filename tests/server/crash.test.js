// Crashes lose nothing: a server process (server/main.js) killed with SIGKILL under load, and
// PostgreSQL shut down immediately (pg_ctl -m immediate) under load and started again. Simulated
// clients resend every op they have no answer for, with the same id, as the real client does.
// Afterwards every acknowledged op is credited exactly once, the ledger is conserved, and a resend
// of an acknowledged op is answered `duplicate`. Real PostgreSQL only: PGlite lives inside the
// server process, so there is no separate database process to crash.
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { test } from 'node:test';

import pg from 'pg';

import { openDatabase } from '../../server/db.js';
import { migrate } from '../../server/migrate.js';
import { startChildServer } from './child-server.js';
import { call, dev, ledger, onRealPostgres, openTestDatabase, units } from './helpers.js';

const PG_BIN = process.env.PG_BIN ?? '/usr/lib/postgresql/15/bin';
const USERS = 8;
const ACKED_BEFORE_CRASH = 40;
const AMOUNT = '0.00000100';
const skip = onRealPostgres ? false : 'needs a PostgreSQL server process; runs in the PostgreSQL passes of scripts/test-server.sh';

// A simulated client of one user: one op in flight at a time, resent unchanged until answered.
function simulatedClient(index) {
  const userId = 6_100_000_000 + index;
  const clientId = `c-crash-${index}`;
  const acked = new Map();
  let seq = 1;
  let pending = null;
  return {
    userId,
    acked,
    get pending() {
      return pending;
    },
    // One attempt against `url`: true when the server answered for the op.
    async step(url) {
      if (!pending) {
        const to = Date.now();
        pending = { id: `${clientId}:${seq}`, seq, type: 'accrual', amount: AMOUNT, from: to - 1000, to, rate: '1000' };
      }
      let answer;
      try {
        answer = await call(url, '/v1/sync', { method: 'POST', auth: dev(userId), body: { clientId, ops: [pending] } });
      } catch {
        return false;
      }
      if (answer.status !== 200) {
        assert.ok(answer.status >= 500, `a crash is never the client's fault: ${answer.status} ${answer.text}`);
        return false;
      }
      const [result] = answer.json.results;
      assert.ok(result.status === 'applied' || result.status === 'duplicate', answer.text);
      assert.equal(result.credited, AMOUNT);
      acked.set(pending.seq, pending);
      pending = null;
      seq += 1;
      return true;
    },
    // The last acknowledged op sent again, as a client whose answer was lost does.
    async resendLast(url) {
      const last = acked.get(seq - 1);
      const answer = await call(url, '/v1/sync', { method: 'POST', auth: dev(userId), body: { clientId, ops: [last] } });
      return answer.json.results[0].status;
    },
  };
}

// Drives every client against `url()` until `until()` holds; a failed attempt is retried.
async function load(clients, url, until) {
  await Promise.all(
    clients.map(async (client) => {
      while (!until()) await client.step(url());
    }),
  );
}

const ackedCount = (clients) => clients.reduce((sum, client) => sum + client.acked.size, 0);

// After the crash: each client's unanswered op is resent until answered, then its last op is
// resent once more (duplicate); the database holds exactly the acknowledged ops, each once.
async function checkNothingLost(clients, url, db) {
  for (const client of clients) {
    while (client.pending) await client.step(url);
    assert.equal(await client.resendLast(url), 'duplicate');
    const rows = await db.query(
      `SELECT seq::int AS seq, status, credited::text AS credited FROM sync_op_results WHERE user_id = $1 ORDER BY seq`,
      [client.userId],
    );
    assert.deepEqual(
      rows,
      [...client.acked.values()].map((op) => ({ seq: op.seq, status: 'applied', credited: AMOUNT })),
    );
    const money = await ledger(db, client.userId);
    assert.equal(units(money.total_earned), units(AMOUNT) * BigInt(client.acked.size));
    assert.equal(money.total_earned, money.credited_ops);
    assert.equal(money.total_earned, money.audit_credits);
  }
}

test('kill -9 of a server process under load: every acknowledged op credited once, resends answered duplicate', { skip }, async () => {
  const database = await openTestDatabase();
  try {
    const clients = Array.from({ length: USERS }, (_, i) => simulatedClient(i));
    let server = await startChildServer({ DATABASE_URL: database.url });
    const first = server;
    await load(clients, () => first.url, () => ackedCount(clients) >= ACKED_BEFORE_CRASH || first.child.exitCode !== null);
    // Killed with requests in flight: the loop goes on against the dead process until it is gone.
    const running = load(clients, () => first.url, () => first.child.exitCode !== null || first.child.signalCode !== null);
    first.child.kill('SIGKILL');
    assert.equal((await first.exited).signal, 'SIGKILL');
    await running;
    server = await startChildServer({ DATABASE_URL: database.url });
    try {
      await checkNothingLost(clients, server.url, database.db);
    } finally {
      server.child.kill('SIGTERM');
      await server.exited;
    }
  } finally {
    await database.drop();
  }
});

// A PostgreSQL 15 cluster of the test's own, since it is shut down mid-test. Durability as the
// test needs it: synchronous_commit on (an acknowledged commit's WAL is written before the answer;
// an immediate shutdown loses no OS buffers, so fsync can stay off). Started like
// scripts/pg-throwaway.sh starts its clusters.
function ownCluster() {
  const asPostgres = (tool, args) => {
    const command = path.join(PG_BIN, tool);
    if (process.getuid?.() === 0) execFileSync('runuser', ['-u', 'postgres', '--', command, ...args], { stdio: 'ignore' });
    else execFileSync(command, args, { stdio: 'ignore' });
  };
  const folder = fs.mkdtempSync(path.join(os.tmpdir(), 'earnings-crash-pg-'));
  fs.chmodSync(folder, 0o755);
  if (process.getuid?.() === 0) execFileSync('chown', ['postgres:postgres', folder]);
  const data = path.join(folder, 'data');
  asPostgres('initdb', ['-D', data, '-U', 'postgres', '-A', 'trust', '-E', 'UTF8', '--no-locale']);
  const port = Number(
    execFileSync(process.execPath, ['-e', 'const s=require("net").createServer();s.listen(0,"127.0.0.1",()=>{console.log(s.address().port);s.close()})'], {
      encoding: 'utf8',
    }),
  );
  const options = `-c listen_addresses=127.0.0.1 -c port=${port} -c unix_socket_directories=${folder} -c fsync=off -c full_page_writes=off`;
  const start = () => asPostgres('pg_ctl', ['-D', data, '-l', path.join(folder, 'postgres.log'), '-o', options, '-w', '-t', '60', 'start']);
  start();
  return {
    url: `postgresql://postgres@127.0.0.1:${port}/postgres`,
    start,
    stopImmediately: () => asPostgres('pg_ctl', ['-D', data, '-m', 'immediate', '-w', 'stop']),
    remove() {
      try {
        asPostgres('pg_ctl', ['-D', data, '-m', 'immediate', '-w', 'stop']);
      } catch {
        // already stopped
      }
      fs.rmSync(folder, { recursive: true, force: true });
    },
  };
}

test('PostgreSQL shut down immediately under load and started again: the same server process goes on, nothing acknowledged lost or doubled', { skip }, async () => {
  const cluster = ownCluster();
  let db = null;
  try {
    db = await openDatabase({ databaseUrl: cluster.url, poolSize: 4 });
    await migrate(db);
    const clients = Array.from({ length: USERS }, (_, i) => simulatedClient(i));
    // The cluster is reached directly, also in the suite's pass behind pgbouncer.
    const server = await startChildServer({ DATABASE_URL: cluster.url, DB_POOLER: 'none' });
    try {
      await load(clients, () => server.url, () => ackedCount(clients) >= ACKED_BEFORE_CRASH);
      const running = load(clients, () => server.url, () => ackedCount(clients) >= 2 * ACKED_BEFORE_CRASH);
      cluster.stopImmediately();
      // While the database is down the server answers 5xx (503 UNAVAILABLE once the driver has
      // seen the shutdown; a connection cut mid-read can still be a bare 500), keeps the clients'
      // ops unwritten, and stays up.
      const down = await call(server.url, '/healthz');
      assert.ok(down.status === 503 || down.status === 500, down.text);
      assert.equal(server.child.exitCode, null);
      cluster.start();
      await running;
      await checkNothingLost(clients, server.url, db);
      assert.equal((await call(server.url, '/healthz')).status, 200);
      assert.equal(server.child.exitCode, null, 'the same process served before and after');
    } finally {
      server.child.kill('SIGTERM');
      await server.exited;
    }
  } finally {
    await db?.close().catch(() => {});
    cluster.remove();
  }
});
