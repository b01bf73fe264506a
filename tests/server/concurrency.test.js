// Concurrency: many users and clients syncing at once, the same batches raced, and (on a real
// PostgreSQL) two server processes started together on one empty database. After each, the
// invariants of ARCHITECTURE.md are checked in the database: exactly once, conservation, bound
// and isolation.
import assert from 'node:assert/strict';
import { test } from 'node:test';

import pg from 'pg';

import { readMigrations } from '../../server/migrate.js';
import { HOUR_MS, START_MS, call, contiguousOps, dev, databaseFixture, ledger, onRealPostgres, startTestServer } from './helpers.js';
import { checkInvariants, plan, runClients, seeded, startLoadServers } from './load.js';

// Not migrated: the two-process test (first) starts on an empty database.
const fixture = databaseFixture({ migrated: false });

test('two server processes started together on one empty database: one schema, invariants hold', async (t) => {
  if (!onRealPostgres) {
    t.skip('PGlite is embedded in one process; this runs in the PostgreSQL pass');
    return;
  }
  const { servers, stop } = await startLoadServers(fixture.database.url, [{}, {}]);
  try {
    const urls = servers.map((server) => server.url);
    const migrations = await fixture.database.db.query('SELECT name FROM schema_migrations');
    assert.equal(migrations.length, readMigrations().length);
    // Real clocks in the processes: the budget counts from first contact, so generous tolerance
    // is not needed; amounts are small and the bound is checked against wall time elapsed.
    const started = Date.now();
    const work = plan({ users: 8, clients: 2, batches: 3, opsPerBatch: 2, firstUser: 900_000, random: seeded(11) });
    for (const { userId } of work) await call(urls[0], '/v1/state?clientId=x', { auth: dev(userId) });
    const answers = await runClients(urls, work);
    await checkInvariants(fixture.database.db, work, answers, { boundMs: Date.now() - started + 60_000 });
  } finally {
    await stop();
  }
});

test('many users and clients at once, every batch raced by its retry: invariants hold', async () => {
  const server = await startTestServer(fixture.database.db);
  try {
    const work = plan({ users: 12, clients: 3, batches: 4, opsPerBatch: 3, firstUser: 800_000, random: seeded(7) });
    for (const { userId } of work) await call(server.url, '/v1/state?clientId=x', { auth: dev(userId) });
    server.clock.advance(HOUR_MS);
    const answers = await runClients([server.url], work);
    await checkInvariants(fixture.database.db, work, answers, { boundMs: HOUR_MS + 60_000 });
  } finally {
    await server.close();
  }
});

// The value of a metric without labels in the server's /metrics text.
async function metricValue(url, name) {
  const { text } = await call(url, '/metrics');
  const line = text.split('\n').find((l) => l.startsWith(`${name} `));
  return line === undefined ? null : Number(line.slice(name.length + 1));
}

test(
  'syncs of different users that wait for a busy transaction are committed together; one whose write fails gets the error alone',
  { skip: onRealPostgres ? false : 'needs a second connection holding a row lock (PGlite is one connection)' },
  async () => {
    const server = await startTestServer(fixture.database.db, { config: { commitGroups: 1 } });
    const blocker = new pg.Client({ connectionString: fixture.database.url });
    await blocker.connect();
    try {
      const users = Array.from({ length: 9 }, (_, i) => 700_000 + i);
      for (const userId of users) await call(server.url, '/v1/state?clientId=x', { auth: dev(userId) });
      // The last user's database holds a stray answer for the op it will send second (as if
      // written by hand, in the month the server will write it), so writing that sync breaks the
      // month's unique key.
      const broken = users.at(-1);
      await fixture.database.db.query(
        `INSERT INTO sync_op_results (user_id, client_id, seq, status, credited, review, created_at)
         VALUES ($1, 'c', 2, 'applied', 0, 0, TIMESTAMP WITH TIME ZONE 'epoch' + $2::bigint * INTERVAL '1 millisecond')`,
        [broken, server.clock.now()],
      );
      server.clock.advance(HOUR_MS);

      // Round 1 holds the first user's row from outside, so the only transaction the server may
      // open (commitGroups 1) waits while the other syncs queue; in round 2 the broken user's
      // sync fails the group.
      const round = async (seq, members) => {
        const [first, ...queued] = members;
        await blocker.query('BEGIN');
        await blocker.query('SELECT 1 FROM user_earnings WHERE user_id = $1 FOR UPDATE', [first]);
        const sync = (userId) =>
          call(server.url, '/v1/sync', {
            method: 'POST',
            auth: dev(userId),
            body: { clientId: 'c', ops: contiguousOps('c', seq, ['0.00100000'], { fromMs: START_MS + (seq - 1) * 60_000, toMs: START_MS + seq * 60_000 }) },
          });
        const answers = [sync(first)];
        while ((await metricValue(server.url, 'earnings_syncs_waiting')) !== 0) await new Promise((r) => setImmediate(r));
        answers.push(...queued.map(sync));
        while ((await metricValue(server.url, 'earnings_syncs_waiting')) !== queued.length) await new Promise((r) => setImmediate(r));
        await blocker.query('COMMIT');
        return Promise.all(answers);
      };

      const first = await round(1, users);
      assert.deepEqual(first.map((a) => a.status), users.map(() => 200));
      assert.equal(await metricValue(server.url, 'earnings_commit_group_syncs_count'), 2, 'one group for the waiting syncs');
      assert.equal(await metricValue(server.url, 'earnings_commit_group_syncs_sum'), 9);

      const second = await round(2, users);
      assert.deepEqual(second.map((a) => a.status), [...users.slice(0, -1).map(() => 200), 500]);
      assert.equal(second.at(-1).json.error.code, 'INTERNAL');
      for (const userId of users.slice(0, -1)) {
        const money = await ledger(fixture.database.db, userId);
        assert.equal(money.total_earned, '0.00200000', `user ${userId}: both syncs credited once`);
        assert.equal(money.total_earned, money.audit_credits);
      }
      const money = await ledger(fixture.database.db, broken);
      assert.equal(money.total_earned, '0.00100000', 'the failed sync wrote nothing');
      assert.equal(money.audit_rows, 1);
    } finally {
      await blocker.end();
      await server.close();
    }
  },
);
