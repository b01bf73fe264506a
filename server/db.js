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

// 1700 = NUMERIC. pg already returns it as a string; this pins that choice against a global
// parser some other module might install.
const NUMERIC_OID = 1700;

// `pgliteSnapshot` (a Blob from dumpDataDir) starts PGlite from a copy instead of running initdb;
// tests use it, since initdb costs seconds per open.
export async function openDatabase({ databaseUrl = null, dataDir = '.data/pglite', poolSize = 10, pgliteSnapshot = null } = {}) {
  return databaseUrl ? openPostgres(databaseUrl, poolSize) : openPglite(dataDir, pgliteSnapshot);
}

async function openPostgres(connectionString, poolSize) {
  const types = {
    getTypeParser(oid, format) {
      if (oid === NUMERIC_OID) return (value) => value;
      return pg.types.getTypeParser(oid, format);
    },
  };
  // A statement stuck behind a lock, or a transaction left open by a bug, must fail (and release
  // its row lock) instead of holding a user hostage; clients retry 5xx answers.
  const pool = new pg.Pool({
    connectionString,
    max: poolSize,
    types,
    statement_timeout: 15_000,
    idle_in_transaction_session_timeout: 30_000,
  });
  // An idle client losing its connection (server restart) must not crash the process; the next
  // query gets a fresh connection.
  pool.on('error', () => {});
  // Every statement text is fixed, so each is prepared once per connection under a stable name
  // and later executions skip parsing and planning.
  const names = new Map();
  const nameOf = (text) => {
    let name = names.get(text);
    if (!name) {
      name = `s${names.size + 1}`;
      names.set(text, name);
    }
    return name;
  };
  const scope = (client) => ({
    async query(text, params = []) {
      return (await client.query({ name: nameOf(text), text, values: params })).rows;
    },
    // Literal SQL, possibly several statements; one { rows } per statement.
    async exec(text) {
      const results = await client.query(text);
      return Array.isArray(results) ? results : [results];
    },
  });
  return {
    kind: 'postgres',
    ...scope(pool),
    async transaction(work, { opening = null } = {}) {
      const client = await pool.connect();
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
        await client.query('ROLLBACK').catch(() => {});
        throw error;
      } finally {
        client.release();
      }
    },
    async close() {
      await pool.end();
    },
  };
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
