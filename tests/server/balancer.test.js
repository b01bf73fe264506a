// Many server processes behind a real haproxy (Debian's 2.6), as production runs them: three
// `node server/main.js` processes on one database (through pgbouncer in the suite's pooled pass),
// loaded with every batch raced by its retry, once routed by a consistent hash of the
// Authorization header (one user, one process, while that process lives; one is restarted half
// way) and once round robin (every sync may land on a process with a stale row cache). Both must
// credit every op exactly once, and the database must conserve: total_earned = the credited op
// results = the audit log.
import assert from 'node:assert/strict';
import fs from 'node:fs';
import { test } from 'node:test';

import { HAPROXY, freePort, startBalancer } from '../../bench/balancer.js';
import { databaseFixture, onRealPostgres } from './helpers.js';
import { checkInvariants, plan, runClients, seeded, startLoadServer, startLoadServers, stopServer } from './load.js';

const PROCESSES = 3;

const skip = !onRealPostgres
  ? 'PGlite is embedded in one process; this runs in the PostgreSQL passes'
  : !fs.existsSync(HAPROXY)
    ? `${HAPROXY} not found (apt-get install haproxy; scripts/setup.sh installs it)`
    : false;

// Opened only where the test runs (a PGlite database would cost seconds for nothing).
const fixture = skip ? null : databaseFixture();

test('three processes behind haproxy, hashed by user then round robin, one restarted under load: every op credited exactly once, conservation holds', { skip, timeout: 120_000 }, async () => {
  const serverPorts = await Promise.all(Array.from({ length: PROCESSES }, freePort));
  const env = (port) => ({ PORT: String(port) });
  const { servers: processes } = await startLoadServers(fixture.database.url, serverPorts.map(env));
  let balancer = null;
  try {
    balancer = await startBalancer(serverPorts);
    const { hashed, roundRobin } = balancer;
    const started = Date.now();

    // Hashed: one user's syncs (both racing copies of every batch) go to one process.
    const hashedWork = plan({ users: 10, clients: 2, batches: 3, opsPerBatch: 3, firstUser: 500_000, random: seeded(21) });
    const servedBy = new Map();
    const hashedAnswers = await runClients([hashed], hashedWork);
    for (const { userId, copies } of hashedAnswers) {
      for (const copy of copies) servedBy.set(userId, (servedBy.get(userId) ?? new Set()).add(copy.headers.get('x-served-by')));
    }
    for (const [userId, served] of servedBy) assert.equal(served.size, 1, `user ${userId} was served by ${[...served]}`);
    assert.ok(new Set([...servedBy.values()].map((s) => [...s][0])).size > 1, 'the hash spreads users over processes');

    // Hashed again, and the process serving the most users restarts half way: its users move to
    // the others and, once it is back, return to it (with the others' cached rows now stale).
    const counts = new Map();
    for (const served of servedBy.values()) counts.set([...served][0], (counts.get([...served][0]) ?? 0) + 1);
    const busiest = Number([...counts].sort((a, b) => b[1] - a[1])[0][0].slice(1));
    const againWork = plan({ users: 10, clients: 2, batches: 4, opsPerBatch: 3, firstUser: 500_000, random: seeded(22) }).map((item) => ({
      ...item,
      // New clients of the same users, so their rows are the ones cached by the first run.
      clientId: `${item.clientId}-again`,
      sequence: item.sequence.map((ops) => ops.map((op) => ({ ...op, id: `${item.clientId}-again:${op.seq}` }))),
    }));
    const total = againWork.reduce((sum, item) => sum + item.sequence.length, 0);
    let restart = null;
    const againAnswers = await runClients([hashed], againWork, {
      resend: true,
      onAnswered: (count) => {
        if (count !== Math.floor(total / 3)) return;
        restart = (async () => {
          await stopServer(processes[busiest]);
          processes[busiest] = await startLoadServer(fixture.database.url, env(serverPorts[busiest]));
        })();
      },
    });
    await restart;

    // Round robin: a user's consecutive syncs land on different processes.
    const roundRobinWork = plan({ users: 10, clients: 2, batches: 3, opsPerBatch: 3, firstUser: 520_000, random: seeded(23) });
    const roundRobinAnswers = await runClients([roundRobin], roundRobinWork, { resend: true });
    const spread = new Map();
    for (const { userId, copies } of roundRobinAnswers) {
      for (const copy of copies) spread.set(userId, (spread.get(userId) ?? new Set()).add(copy.headers.get('x-served-by')));
    }
    assert.ok([...spread.values()].every((served) => served.size > 1), 'round robin moves every user between processes');

    await checkInvariants(fixture.database.db, [...hashedWork, ...againWork, ...roundRobinWork], [...hashedAnswers, ...againAnswers, ...roundRobinAnswers], {
      boundMs: Date.now() - started + 60_000,
    });
  } finally {
    await balancer?.stop();
    await Promise.all(processes.map(stopServer));
  }
});
