// One small interface over the two databases the server runs on: PGlite (PostgreSQL compiled to
// WASM, embedded, the default) and a real PostgreSQL server through `pg` (DATABASE_URL). The
// crediting code sees only `query`, `exec` and `transaction`, so the same SQL and the same tests
// run on both.
//
// Values: NUMERIC stays a decimal string on both drivers (money is never a JS number). BIGINT
// differs between the drivers (pg: string, PGlite: number), so the SQL casts ids and sequences
// to text where it reads them, and the caller converts after checking.
import fs from 'node:fs';
import pg from 'pg';

import { ServerError } from './errors.js';

// 1700 = NUMERIC. pg already returns it as a string; this pins that choice against a global
// parser some other module might install.
const NUMERIC_OID = 1700;

// `pgliteSnapshot` (a Blob from dumpDataDir) starts PGlite from a copy instead of running initdb;
// tests use it, since initdb costs seconds per open. `pooler`: 'none' (the server talks to
// PostgreSQL itself) or 'transaction' (through a pooler in transaction pooling mode, pgbouncer's
// `pool_mode = transaction`); see openPostgres.
export async function openDatabase({
  databaseUrl = null,
  dataDir = '.data/pglite',
  poolSize = 10,
  pgliteSnapshot = null,
  pooler = 'none',
  statementTimeoutMs = 15_000,
  idleInTransactionTimeoutMs = 30_000,
} = {}) {
  return databaseUrl
    ? openPostgres(databaseUrl, { poolSize, pooler, timeouts: { statementTimeoutMs, idleInTransactionTimeoutMs } })
    : openPglite(dataDir, pgliteSnapshot);
}

// A statement stuck behind a lock, or a transaction left open by a bug, must fail (and release
// its row lock) instead of holding a user hostage; clients retry 5xx answers. PostgreSQL enforces
// both timeouts itself, so a timed-out statement really stops and its locks go.
//
// Talking to PostgreSQL directly, they are startup parameters of each connection, and every
// statement text, being fixed, is prepared once per connection under a stable name so later
// executions skip parsing and planning.
//
// Through a pooler in transaction mode neither works: consecutive transactions of one client run
// on different server connections, so a named statement prepared on one is missing (or, prepared
// by another process under the same name, different) on the next, and pgbouncer refuses startup
// parameters it does not know. There every statement is unnamed (parsed and planned each time)
// and the timeouts are the role's defaults in PostgreSQL (ALTER ROLE ... SET, README "Behind
// pgbouncer"), which every server connection the pooler opens starts with; the server checks at
// start that they are in effect and at most its own, and refuses to start otherwise.
async function openPostgres(connectionString, { poolSize, pooler, timeouts }) {
  if (pooler !== 'none' && pooler !== 'transaction') {
    throw new ServerError('CONFIG_INVALID', `pooler must be "none" or "transaction", got ${JSON.stringify(pooler)}`, 500);
  }
  const viaPooler = pooler === 'transaction';
  const types = {
    getTypeParser(oid, format) {
      if (oid === NUMERIC_OID) return (value) => value;
      return pg.types.getTypeParser(oid, format);
    },
  };
  const pool = new pg.Pool({
    connectionString,
    max: poolSize,
    types,
    ...(viaPooler
      ? {}
      : {
          statement_timeout: timeouts.statementTimeoutMs,
          idle_in_transaction_session_timeout: timeouts.idleInTransactionTimeoutMs,
        }),
  });
  // An idle client losing its connection (server restart) must not crash the process; the next
  // query gets a fresh connection.
  pool.on('error', () => {});
  const names = new Map();
  const nameOf = (text) => {
    let name = names.get(text);
    if (!name) {
      name = `s${names.size + 1}`;
      names.set(text, name);
    }
    return name;
  };
  const statement = viaPooler ? (text, values) => ({ text, values }) : (text, values) => ({ name: nameOf(text), text, values });
  const scope = (client) => ({
    async query(text, params = []) {
      return (await client.query(statement(text, params))).rows;
    },
    // Literal SQL, possibly several statements; one { rows } per statement.
    async exec(text) {
      const results = await client.query(text);
      return Array.isArray(results) ? results : [results];
    },
  });
  if (viaPooler) {
    try {
      await checkRoleTimeouts(scope(pool), timeouts);
    } catch (error) {
      await pool.end();
      throw error;
    }
  }
  return {
    kind: 'postgres',
    ...scope(pool),
    async transaction(work, { opening = null } = {}) {
      const client = await pool.connect();
      // PostgreSQL ending the connection while the transaction waits on us (the idle timeout, a
      // restart) is reported on the client, not on a query; unheard, it would crash the process.
      // The next query fails anyway, and the broken connection is not given back to the pool.
      let lost = null;
      const onLost = (error) => {
        lost = error;
      };
      client.on('error', onLost);
      try {
        let openingRows = [];
        if (opening) {
          const [, ...results] = await client.query(`BEGIN; ${opening}`);
          openingRows = results.map((r) => r.rows);
        } else {
          await client.query('BEGIN');
        }
        const result = await work(scope(client), openingRows);
        await client.query('COMMIT');
        return result;
      } catch (error) {
        if (!lost) await client.query('ROLLBACK').catch(() => {});
        throw error;
      } finally {
        client.off('error', onLost);
        client.release(lost ?? undefined);
      }
    },
    async close() {
      await pool.end();
    },
  };
}

// The timeouts a session through the pooler starts with must be on and no longer than the
// server's own: a longer one would let a stuck statement hold a user's row past what clients are
// told to wait for.
async function checkRoleTimeouts(db, { statementTimeoutMs, idleInTransactionTimeoutMs }) {
  const [row] = await db.query(
    `SELECT current_setting('statement_timeout') AS statement_timeout,
       current_setting('idle_in_transaction_session_timeout') AS idle_in_transaction_session_timeout,
       (SELECT setting::bigint FROM pg_settings WHERE name = 'statement_timeout')::text AS statement_ms,
       (SELECT setting::bigint FROM pg_settings WHERE name = 'idle_in_transaction_session_timeout')::text AS idle_ms`,
  );
  const wrong = [];
  const [statementMs, idleMs] = [Number(row.statement_ms), Number(row.idle_ms)];
  if (statementMs === 0 || statementMs > statementTimeoutMs) {
    wrong.push(`statement_timeout is ${row.statement_timeout}, wanted 1ms..${statementTimeoutMs}ms`);
  }
  if (idleMs === 0 || idleMs > idleInTransactionTimeoutMs) {
    wrong.push(`idle_in_transaction_session_timeout is ${row.idle_in_transaction_session_timeout}, wanted 1ms..${idleInTransactionTimeoutMs}ms`);
  }
  if (wrong.length > 0) {
    throw new ServerError(
      'CONFIG_INVALID',
      `behind a transaction pooler the database role must carry the timeouts (${wrong.join('; ')}): ` +
        `ALTER ROLE <server role> SET statement_timeout = '${statementTimeoutMs}ms'; ` +
        `ALTER ROLE <server role> SET idle_in_transaction_session_timeout = '${idleInTransactionTimeoutMs}ms'; ` +
        'then let the pooler open new server connections (pgbouncer: RECONNECT)',
      500,
    );
  }
}

async function openPglite(dataDir, snapshot) {
  const { PGlite } = await import('@electric-sql/pglite');
  if (!dataDir.startsWith('memory://')) fs.mkdirSync(dataDir, { recursive: true });
  const db = await PGlite.create(dataDir, snapshot ? { loadDataDir: snapshot } : {});
  // PGlite is one connection: its transaction() queues every other query until it ends, which
  // gives the same per-user serialisation that row locks give on a real server.
  const scope = (target) => ({
    async query(text, params = []) {
      return (await target.query(text, params)).rows;
    },
    exec(text) {
      return target.exec(text);
    },
  });
  return {
    kind: 'pglite',
    ...scope(db),
    snapshot: () => db.dumpDataDir('gzip'),
    transaction(work, { opening = null } = {}) {
      return db.transaction(async (tx) => {
        const openingRows = opening ? (await tx.exec(opening)).map((r) => r.rows) : [];
        return work(scope(tx), openingRows);
      });
    },
    async close() {
      await db.close();
    },
  };
}
