// The database timeouts on a real PostgreSQL, talking to it directly (the server's startup
// parameters) and behind pgbouncer in transaction mode (the role's defaults, checked at start):
// a statement over the statement timeout fails and releases what it waited for, a transaction
// left idle is ended by PostgreSQL, and a server behind a pooler whose role lacks the timeouts
// refuses to start.
import assert from 'node:assert/strict';
import { test } from 'node:test';

import pg from 'pg';

import { openDatabase } from '../../server/db.js';
import { START_MS, accrualOp, behindPooler, dev, ledger, onRealPostgres, openTestDatabase, startTestServer, call } from './helpers.js';

const skip = onRealPostgres ? false : 'PGlite is one embedded connection: nothing waits and nothing is left idle';
const SHORT = { statementTimeoutMs: 1000, idleInTransactionTimeoutMs: 2000 };

// Polls until `check` resolves true: synchronises on the database's own state, not on a delay.
async function until(check) {
  while (!(await check())) await new Promise((resolve) => setTimeout(resolve, 25));
}

test(
  `a sync stuck behind a row lock past the statement timeout is answered UNAVAILABLE, writes nothing, and is credited once on retry (${behindPooler ? 'behind pgbouncer' : 'direct'})`,
  { skip },
  async () => {
    const database = await openTestDatabase({ timeouts: SHORT });
    const server = await startTestServer(database.db);
    const blocker = new pg.Client({ connectionString: database.url });
    await blocker.connect();
    try {
      const userId = 610_001;
      assert.equal((await call(server.url, '/v1/state?clientId=c-1', { auth: dev(userId) })).status, 200);
      await assert.rejects(database.db.query('SELECT pg_sleep(5)'), (error) => error.code === '57014');

      // The blocker's own transaction may stay idle as long as the test needs.
      await blocker.query(
        `BEGIN; SET LOCAL idle_in_transaction_session_timeout = 0;
         SELECT 1 FROM user_earnings WHERE user_id = ${userId} FOR UPDATE`,
      );
      server.clock.advance(60_000);
      const body = { clientId: 'c-1', ops: [accrualOp('c-1', 1, '0.01000000', { from: START_MS, to: START_MS + 60_000 })] };
      const stuck = await call(server.url, '/v1/sync', { method: 'POST', auth: dev(userId), body });
      assert.equal(stuck.status, 503);
      assert.equal(stuck.json.error.code, 'UNAVAILABLE');
      await blocker.query('COMMIT');
      assert.equal((await ledger(database.db, userId)).total_earned, '0.00000000');

      const retried = await call(server.url, '/v1/sync', { method: 'POST', auth: dev(userId), body });
      assert.equal(retried.status, 200);
      assert.equal(retried.json.results[0].status, 'applied');
      const again = await call(server.url, '/v1/sync', { method: 'POST', auth: dev(userId), body });
      assert.equal(again.json.results[0].status, 'duplicate');
      const money = await ledger(database.db, userId);
      assert.equal(money.total_earned, '0.01000000');
      assert.equal(money.credited_ops, '0.01000000');
      assert.equal(money.audit_credits, '0.01000000');
    } finally {
      await blocker.end();
      await server.close();
      await database.drop();
    }
  },
);

test('a transaction left idle past the idle timeout is ended by PostgreSQL and its work rolled back', { skip, timeout: 30_000 }, async () => {
  const database = await openTestDatabase({ timeouts: SHORT });
  const observer = new pg.Client({ connectionString: database.url });
  await observer.connect();
  try {
    const userId = 610_002;
    await assert.rejects(
      database.db.transaction(async (tx) => {
        const [{ pid }] = await tx.query('SELECT pg_backend_pid() AS pid');
        await tx.query(
          `INSERT INTO user_earnings (user_id, current_earnings, earning_rate, total_earned) VALUES ($1, 0, 1, 0)`,
          [userId],
        );
        // Idle in the transaction until PostgreSQL ends its backend.
        await until(async () => (await observer.query('SELECT 1 FROM pg_stat_activity WHERE pid = $1', [pid])).rowCount === 0);
        await tx.query('SELECT 1');
      }),
    );
    assert.equal((await database.db.query('SELECT COUNT(*)::int AS n FROM user_earnings WHERE user_id = $1', [userId]))[0].n, 0);
  } finally {
    await observer.end();
    await database.drop();
  }
});

test('behind a transaction pooler, a role without the timeouts (or with longer ones) stops the server at start', { skip }, async () => {
  const database = await openTestDatabase({ timeouts: { statementTimeoutMs: 20_000, idleInTransactionTimeoutMs: 30_000 } });
  try {
    await assert.rejects(
      openDatabase({ databaseUrl: database.url, pooler: 'transaction', statementTimeoutMs: 15_000, idleInTransactionTimeoutMs: 30_000 }),
      (error) => error.code === 'CONFIG_INVALID' && /statement_timeout is 20s/.test(error.message) && /ALTER ROLE/.test(error.message),
    );
    const matching = await openDatabase({ databaseUrl: database.url, pooler: 'transaction', statementTimeoutMs: 20_000, idleInTransactionTimeoutMs: 30_000 });
    await matching.close();
  } finally {
    await database.drop();
  }
});
