// Shared test fixtures for the server suite. The same tests run on PGlite (default) and on a real
// PostgreSQL (TEST_DATABASE_URL, set by scripts/test-server.sh from a throwaway cluster); on the
// real server every test file gets a database of its own, created here and dropped at the end.
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { Writable } from 'node:stream';
import { after, before } from 'node:test';

import pg from 'pg';
import pino from 'pino';

import { loadCore } from '../../js/core.js';
import { createServer } from '../../server/app.js';
import { loadServerCore } from '../../server/core.js';
import { signInitData } from '../../server/auth.js';
import { DEFAULTS } from '../../server/config.js';
import { openDatabase } from '../../server/db.js';
import { migrate } from '../../server/migrate.js';

export const BOT_TOKEN = '123456789:AAEtestTokenForTheEarningsServerSuite';
export const ADMIN_TOKEN = 'admin-token-for-tests-0123456789';
// 2026-01-01T00:00:00Z: a fixed server clock start, so every run credits the same amounts.
export const START_MS = 1767225600000;
export const HOUR_MS = 3_600_000;

export const onRealPostgres = Boolean(process.env.TEST_DATABASE_URL);
// 'transaction' in the pass through pgbouncer (scripts/pgbouncer-throwaway.sh exports it).
export const testPooler = process.env.DB_POOLER || 'none';
export const behindPooler = onRealPostgres && testPooler !== 'none';
const SERVER_TIMEOUTS = { statementTimeoutMs: DEFAULTS.statementTimeoutMs, idleInTransactionTimeoutMs: DEFAULTS.idleInTransactionTimeoutMs };

let databaseCounter = 0;

// PGlite's initdb costs seconds (tens on a busy machine) per open; every test file after the
// first starts from a copy of a freshly initialised, empty database instead. The copy is keyed
// by the PGlite version and written atomically, so a stale or half-written one is never read.
async function openPgliteFromSnapshot() {
  const { version } = JSON.parse(fs.readFileSync(new URL('../../node_modules/@electric-sql/pglite/package.json', import.meta.url)));
  const file = path.join(os.tmpdir(), `earnings-test-pglite-${version}.tgz`);
  if (fs.existsSync(file)) {
    return openDatabase({ dataDir: 'memory://', pgliteSnapshot: new Blob([fs.readFileSync(file)]) });
  }
  const db = await openDatabase({ dataDir: 'memory://' });
  const snapshot = Buffer.from(await (await db.snapshot()).arrayBuffer());
  const partial = `${file}.${process.pid}`;
  fs.writeFileSync(partial, snapshot);
  fs.renameSync(partial, file);
  return db;
}

// A fresh database, migrated unless told otherwise, opened with `timeouts` (the server's by
// default). Returns { db, url, drop() }.
export async function openTestDatabase({ migrated = true, timeouts = SERVER_TIMEOUTS } = {}) {
  const adminUrl = process.env.TEST_DATABASE_URL;
  if (!adminUrl) {
    const db = await openPgliteFromSnapshot();
    if (migrated) await migrate(db);
    return { db, url: null, drop: () => db.close() };
  }
  databaseCounter += 1;
  const name = `earnings_test_${process.pid}_${databaseCounter}`;
  const admin = new pg.Client({ connectionString: adminUrl });
  await admin.connect();
  await admin.query(`CREATE DATABASE ${name}`);
  // What an operator does for a server behind a transaction pooler (README "Behind pgbouncer"):
  // the timeouts become the role's defaults. Talking to PostgreSQL directly, the server's startup
  // parameters override them.
  await admin.query(
    `ALTER ROLE CURRENT_USER IN DATABASE ${name} SET statement_timeout = '${timeouts.statementTimeoutMs}ms';
     ALTER ROLE CURRENT_USER IN DATABASE ${name} SET idle_in_transaction_session_timeout = '${timeouts.idleInTransactionTimeoutMs}ms'`,
  );
  await admin.end();
  const url = new URL(adminUrl);
  url.pathname = `/${name}`;
  const db = await openDatabase({ databaseUrl: url.toString(), poolSize: 20, pooler: testPooler, ...timeouts });
  if (migrated) await migrate(db);
  return {
    db,
    url: url.toString(),
    async drop() {
      await db.close();
      const cleaner = new pg.Client({ connectionString: adminUrl });
      await cleaner.connect();
      await cleaner.query(`DROP DATABASE IF EXISTS ${name} WITH (FORCE)`);
      await cleaner.end();
    },
  };
}

// The database a test file shares, opened in a `before` hook and dropped in an `after` hook of the
// file that calls this. `fixture.database` is set once the hook has run, so read it inside tests.
export function databaseFixture({ migrated = true } = {}) {
  const fixture = { database: null };
  before(async () => {
    fixture.database = await openTestDatabase({ migrated });
  });
  after(async () => {
    await fixture.database?.drop();
  });
  return fixture;
}

// A migrated database and a server over it, shared by a test file's tests: opened in a `before`
// hook, the server closed before the database is dropped in an `after` hook. `config` (an object,
// or a function called when the server starts) adds to startTestServer's config. `fixture.database`
// and `fixture.server` are set once the hook has run; sync, state (clientId 'c-1' unless given) and
// admin call that server as `dev <userId>` or with the admin token.
export function serverFixture({ config } = {}) {
  const fixture = {
    database: null,
    server: null,
    sync: (userId, body) => call(fixture.server.url, '/v1/sync', { method: 'POST', auth: dev(userId), body }),
    state: (userId, clientId = 'c-1') => call(fixture.server.url, `/v1/state?clientId=${clientId}`, { auth: dev(userId) }),
    admin: (path, body) =>
      call(fixture.server.url, path, { method: body === undefined ? 'GET' : 'POST', auth: `Bearer ${ADMIN_TOKEN}`, body }),
  };
  before(async () => {
    fixture.database = await openTestDatabase();
    fixture.server = await startTestServer(fixture.database.db, { config: typeof config === 'function' ? config() : config });
  });
  after(async () => {
    await fixture.server?.close();
    await fixture.database?.drop();
  });
  return fixture;
}

// A server clock the test moves by hand.
export function manualClock(start = START_MS) {
  let now = start;
  return {
    now: () => now,
    advance(ms) {
      now += ms;
      return now;
    },
    set(ms) {
      now = ms;
    },
  };
}

// Structured log lines captured in memory (Properties 11 and 30 read them).
// waitFor(predicate) resolves with the first line, already logged or still to come, that matches.
export function captureLogger() {
  const lines = [];
  const waiters = [];
  const stream = new Writable({
    write(chunk, _encoding, done) {
      for (const text of chunk.toString().split('\n')) {
        if (!text) continue;
        const line = JSON.parse(text);
        lines.push(line);
        for (const waiter of waiters.filter((w) => w.predicate(line))) {
          waiters.splice(waiters.indexOf(waiter), 1);
          waiter.resolve(line);
        }
      }
      done();
    },
  });
  const logger = pino({ level: 'debug' }, stream);
  return {
    logger,
    lines,
    raw: () => lines.map((line) => JSON.stringify(line)).join('\n'),
    waitFor(predicate) {
      const found = lines.find(predicate);
      return found ? Promise.resolve(found) : new Promise((resolve) => waiters.push({ predicate, resolve }));
    },
  };
}

let corePromise = null;
// The server's build of the core, as the server loads it.
export function sharedCore() {
  corePromise ??= loadServerCore();
  return corePromise;
}

// The client module, as browsers load it (for devices in end-to-end tests).
export function clientCore() {
  return loadCore();
}

// An in-process server on an ephemeral port over `db`, with a manual clock.
export async function startTestServer(db, overrides = {}) {
  const clock = overrides.clock ?? manualClock();
  const log = captureLogger();
  const app = await createServer({
    db,
    core: await sharedCore(),
    now: clock.now,
    logger: log.logger,
    port: 0,
    botToken: BOT_TOKEN,
    adminToken: ADMIN_TOKEN,
    devIdentity: true,
    defaultRatePerHour: '1.00000000',
    offlineCapMs: 8 * HOUR_MS,
    toleranceMs: 60_000,
    // Tests send many requests per user at one instant of their manual clock; limits.test.js
    // tests the rate limit itself.
    userRequestsPerS: 0,
    // Nor shed load: the machine running the suite may lag; limits.test.js tests shedding itself.
    maxEventLoopDelayMs: 0,
    ...overrides.config,
  });
  await app.listen(0, '127.0.0.1');
  return { app, url: app.url, clock, log, close: () => app.close() };
}

export function initDataFor(userId, { authDateS, botToken = BOT_TOKEN, extra = {} } = {}) {
  return signInitData(
    {
      auth_date: String(authDateS ?? Math.floor(START_MS / 1000)),
      query_id: 'AAHdF6IQAAAAAN0XohDhrOrc',
      user: JSON.stringify({ id: userId, first_name: 'Miner', username: `miner${userId}` }),
      ...extra,
    },
    botToken,
  );
}

export async function call(url, path, { method = 'GET', auth, body, headers = {} } = {}) {
  const init = { method, headers: { ...headers } };
  if (auth) init.headers.Authorization = auth;
  if (body !== undefined) {
    init.body = typeof body === 'string' || body instanceof Uint8Array ? body : JSON.stringify(body);
    init.headers['Content-Type'] ??= 'application/json';
  }
  const response = await fetch(`${url}${path}`, init);
  const text = await response.text();
  let json = null;
  try {
    json = JSON.parse(text);
  } catch {
    json = null;
  }
  return { status: response.status, json, text, headers: response.headers };
}

export const dev = (userId) => `dev ${userId}`;

export function accrualOp(clientId, seq, amount, { from = START_MS, to = START_MS + 60_000, rate = '1.00000000', type = 'accrual' } = {}) {
  return { id: `${clientId}:${seq}`, seq, type, amount, from, to, rate };
}

// Ops for `amounts` that cover [fromMs, toMs] back to back, as a client's outbox sends them.
export function contiguousOps(clientId, firstSeq, amounts, { fromMs = START_MS, toMs = START_MS + 60_000, type = 'accrual' } = {}) {
  const span = toMs - fromMs;
  return amounts.map((amount, i) =>
    accrualOp(clientId, firstSeq + i, amount, {
      from: fromMs + Math.floor((i * span) / amounts.length),
      to: fromMs + Math.floor(((i + 1) * span) / amounts.length),
      type,
    }),
  );
}

// Everything the database holds about a user's money, as decimal strings, for conservation checks.
// Months the retention job dropped count through the user's checkpoint (server/retention.js):
// credited_ops and audit_credits are the checkpoint plus what the kept partitions hold.
export async function ledger(db, userId) {
  const [row] = await db.query(
    `SELECT
       (SELECT total_earned::text FROM user_earnings WHERE user_id = $1) AS total_earned,
       (SELECT pending_review::text FROM user_earnings WHERE user_id = $1) AS pending_review,
       ((SELECT COALESCE(SUM(credited), 0) FROM sync_op_results WHERE user_id = $1)
          + (SELECT COALESCE(SUM(credited_ops), 0) FROM earnings_checkpoints WHERE user_id = $1))::numeric(18,8)::text AS credited_ops,
       ((SELECT COALESCE(SUM(new_value - old_value), 0) FROM earnings_audit_log
          WHERE user_id = $1 AND operation_type IN ('credit', 'review_approved', 'opening_balance'))
          + (SELECT COALESCE(SUM(audit_credited), 0) FROM earnings_checkpoints WHERE user_id = $1))::numeric(18,8)::text AS audit_credits,
       (SELECT COALESCE(SUM(amount), 0)::numeric(18,8)::text FROM earnings_review_queue
          WHERE user_id = $1 AND status = 'approved') AS approved_reviews,
       (SELECT COALESCE(SUM(amount), 0)::numeric(18,8)::text FROM earnings_review_queue
          WHERE user_id = $1 AND status = 'pending') AS pending_reviews,
       (SELECT COUNT(*)::int FROM earnings_audit_log WHERE user_id = $1) AS audit_rows,
       (SELECT COALESCE(SUM(refused), 0)::numeric(18,8)::text FROM sync_op_results WHERE user_id = $1) AS refused_ops`,
    [userId],
  );
  return row;
}

// Row counts of every table the server writes, to prove a refused request wrote nothing.
export async function tableCounts(db) {
  const [row] = await db.query(
    `SELECT
       (SELECT COUNT(*)::int FROM user_earnings) AS users,
       (SELECT COUNT(*)::int FROM sync_client_sequences) AS sequences,
       (SELECT COUNT(*)::int FROM sync_op_results) AS results,
       (SELECT COUNT(*)::int FROM earnings_audit_log) AS audit,
       (SELECT COUNT(*)::int FROM earnings_review_queue) AS reviews,
       (SELECT md5(string_agg(user_id::text || total_earned::text || pending_review::text, ',' ORDER BY user_id))
          FROM user_earnings) AS money`,
  );
  return row;
}

// Units (10^-8 TON) as BigInt from a decimal string, for exact sums in tests.
export function units(text) {
  const match = /^(-?)(\d+)(?:\.(\d{1,8}))?$/.exec(text);
  if (!match) throw new Error(`not an amount: ${text}`);
  const value = BigInt(match[2]) * 100000000n + BigInt((match[3] ?? '').padEnd(8, '0'));
  return match[1] ? -value : value;
}

export function formatUnits(value) {
  const sign = value < 0n ? '-' : '';
  const abs = value < 0n ? -value : value;
  return `${sign}${abs / 100000000n}.${(abs % 100000000n).toString().padStart(8, '0')}`;
}

// The user_earnings table a live app had before the fix: the seed's UserEarnings columns other
// than those the seed's ALTER TABLE adds, a SERIAL id, no UNIQUE on user_id, NULL allowed.
export const LEGACY_TABLE = `CREATE TABLE user_earnings (
  id SERIAL PRIMARY KEY,
  user_id BIGINT,
  current_earnings NUMERIC(18,8) DEFAULT 0,
  earning_rate NUMERIC(18,8) DEFAULT 0,
  last_update TIMESTAMP WITH TIME ZONE DEFAULT CURRENT_TIMESTAMP,
  created_at TIMESTAMP WITH TIME ZONE DEFAULT CURRENT_TIMESTAMP,
  updated_at TIMESTAMP WITH TIME ZONE DEFAULT CURRENT_TIMESTAMP,
  total_earned NUMERIC(18,8) DEFAULT 0
)`;

const atMs = (column) => `TIMESTAMP WITH TIME ZONE 'epoch' + r.${column} * INTERVAL '1 millisecond'`;

// Writes legacy rows ({ user_id, current_earnings, earning_rate, last_update, created_at,
// updated_at, total_earned }, money as decimal text, times as ms, null for NULL) in one statement.
export async function insertLegacyRows(db, rows) {
  await db.query(
    `INSERT INTO user_earnings (user_id, current_earnings, earning_rate, last_update, created_at, updated_at, total_earned)
     SELECT r.user_id, r.current_earnings, r.earning_rate, ${atMs('last_update')}, ${atMs('created_at')},
       ${atMs('updated_at')}, r.total_earned
     FROM jsonb_to_recordset($1::jsonb) AS r(user_id bigint, current_earnings numeric, earning_rate numeric,
       last_update bigint, created_at bigint, updated_at bigint, total_earned numeric)`,
    [JSON.stringify(rows)],
  );
}

// The README's SQL block that contains `marker`: tests run the statements an operator is told to.
export function readmeSql(marker) {
  const readme = fs.readFileSync(new URL('../../README.md', import.meta.url), 'utf8');
  const block = [...readme.matchAll(/```sql\n([\s\S]*?)```/g)].map((m) => m[1]).find((sql) => sql.includes(marker));
  if (!block) throw new Error(`README has no SQL block with "${marker}"`);
  return block.trim().replace(/;$/, '');
}
