// Ready for a distributed PostgreSQL (issue 13, part 4), checked on vanilla PostgreSQL and PGlite
// since Citus is not available here: the catalog (every table keyed by user_id, every primary or
// unique key containing it), the statements the server sends for syncs, a state read and a review
// decision (captured by wrapping the db object, then EXPLAINed: every scan of a user table is
// restricted by user_id to given values, so FOR UPDATE too; RETURNING lists pass PostgreSQL's
// own immutability check), the row revision (a counter, not a transaction id), and the shard map
// commit groups use (Citus's placement, computed from PostgreSQL's hashint8). Each checker is
// also shown a breach, so none of them can pass by checking nothing.
import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import { test } from 'node:test';

import fc from 'fast-check';

import { MIGRATIONS_DIR } from '../../server/migrate.js';
import { shardOf } from '../../server/shards.js';
import { HOUR_MS, START_MS, accrualOp, call, databaseFixture, dev, startTestServer } from './helpers.js';

const fixture = databaseFixture();

// schema_migrations is the migration runner's bookkeeping, not users' data: on Citus it stays a
// local table of the coordinator, where the server runs its migrations.
const NOT_USER_DATA = new Set(['schema_migrations']);

// Tables (and partitions) without a user_id column, and unique indexes (primary keys included)
// that do not contain it.
async function catalogBreaches(db) {
  const unkeyed = await db.query(
    `SELECT c.relname FROM pg_class c
     WHERE c.relnamespace = current_schema()::regnamespace AND c.relkind IN ('r', 'p')
       AND NOT EXISTS (SELECT 1 FROM pg_attribute a WHERE a.attrelid = c.oid AND a.attname = 'user_id'
                       AND NOT a.attisdropped AND a.atttypid = 'bigint'::regtype)
     ORDER BY 1`,
  );
  const keys = await db.query(
    `SELECT c.relname, i.indexrelid::regclass::text AS index FROM pg_index i JOIN pg_class c ON c.oid = i.indrelid
     WHERE c.relnamespace = current_schema()::regnamespace AND i.indisunique
       AND NOT EXISTS (SELECT 1 FROM pg_attribute a WHERE a.attrelid = c.oid AND a.attname = 'user_id'
                       AND a.attnum = ANY (i.indkey::int2[]))
     ORDER BY 1, 2`,
  );
  return [
    ...unkeyed.filter((r) => !NOT_USER_DATA.has(r.relname)).map((r) => `table ${r.relname} has no BIGINT user_id`),
    ...keys.filter((r) => !NOT_USER_DATA.has(r.relname)).map((r) => `unique key ${r.index} of ${r.relname} lacks user_id`),
  ];
}

// Every table with a user_id column, with its partitions, by name.
async function userTables(db) {
  const rows = await db.query(
    `SELECT c.relname FROM pg_class c JOIN pg_attribute a ON a.attrelid = c.oid AND a.attname = 'user_id'
     WHERE c.relnamespace = current_schema()::regnamespace AND c.relkind IN ('r', 'p')`,
  );
  return new Set(rows.map((r) => r.relname));
}

// user_id compared with given values (a literal, a parameter, or a list of them), not with a
// column of another relation.
const NAMES_USERS = /\buser_id = (?:ANY \()?(?:\$\d+|'[^']*'::bigint(?:\[\])?|\d+\b|\(\$\d+\)(?:::bigint(?:\[\])?)?)/;

// What a statement's plan breaks: a scan of a user table (as read, as locked by FOR UPDATE, as
// updated) not restricted to given users.
async function planBreaches(db, tables, { text, params }) {
  const [row] = await db.query(`EXPLAIN (VERBOSE, FORMAT JSON) ${text}`, params);
  let plan = Object.values(row)[0];
  if (typeof plan === 'string') plan = JSON.parse(plan);
  const breaches = [];
  const walk = (node) => {
    if (node['Relation Name'] && tables.has(node['Relation Name']) && node['Node Type'] !== 'ModifyTable') {
      const conditions = [node['Index Cond'], node['Recheck Cond'], node.Filter].filter(Boolean).join(' AND ');
      if (!NAMES_USERS.test(conditions)) {
        breaches.push(`${node['Node Type']} on ${node['Relation Name']} by (${conditions || 'nothing'}) in: ${text.replace(/\s+/g, ' ').slice(0, 160)}`);
      }
    }
    for (const child of node.Plans ?? []) walk(child);
  };
  walk(plan[0].Plan);
  return breaches;
}

// The items of every RETURNING list of a statement: from the keyword to the end of its
// parenthesis level, split at that level's commas, without `AS name` and table aliases.
function returningItems(text) {
  const items = [];
  for (const match of text.matchAll(/\bRETURNING\b/g)) {
    let depth = 0;
    let start = match.index + match[0].length;
    for (let i = start; i <= text.length; i += 1) {
      const ch = text[i];
      if (ch === '(') depth += 1;
      else if ((ch === ')' && depth === 0) || ch === undefined || (ch === ',' && depth === 0)) {
        items.push(text.slice(start, i).trim().replace(/\s+AS\s+\w+$/i, '').replace(/\b[a-z]\.(?=\w)/g, ''));
        start = i + 1;
        if (ch !== ',') break;
      } else if (ch === ')') depth -= 1;
    }
  }
  return items;
}

// RETURNING items PostgreSQL refuses as an index expression ("functions in index expression
// must be marked IMMUTABLE"), on a scratch table with every column name of the schema.
async function returningBreaches(db, texts) {
  const items = [...new Set(texts.flatMap(returningItems))];
  const breaches = [];
  const rollback = new Error('scratch work only');
  await db
    .transaction(async (tx) => {
      const columns = await tx.query(
        `SELECT DISTINCT ON (a.attname) a.attname, format_type(a.atttypid, a.atttypmod) AS type
         FROM pg_attribute a JOIN pg_class c ON c.oid = a.attrelid
         WHERE c.relnamespace = current_schema()::regnamespace AND c.relkind IN ('r', 'p') AND a.attnum > 0 AND NOT a.attisdropped
         ORDER BY a.attname, c.relname`,
      );
      await tx.query(`CREATE TABLE returning_check (${columns.map((c) => `"${c.attname}" ${c.type}`).join(', ')})`);
      for (const item of items) {
        await tx.query('SAVEPOINT item');
        try {
          await tx.query(`CREATE INDEX ON returning_check ((${item}))`);
        } catch (error) {
          breaches.push(`RETURNING ${item}: ${error.message}`);
        }
        await tx.query('ROLLBACK TO SAVEPOINT item');
      }
      throw rollback;
    })
    .catch((error) => {
      if (error !== rollback) throw error;
    });
  return { items, breaches };
}

// The trigger functions of user tables that read a per-node transaction id.
async function revisionBreaches(db, sources = null) {
  const functions =
    sources ??
    (await db.query(
      `SELECT p.proname, p.prosrc FROM pg_trigger t JOIN pg_proc p ON p.oid = t.tgfoid JOIN pg_class c ON c.oid = t.tgrelid
       WHERE c.relnamespace = current_schema()::regnamespace AND NOT t.tgisinternal`,
    ));
  return functions.filter((f) => /txid_current|pg_current_xact_id/i.test(f.prosrc)).map((f) => `${f.proname} reads a transaction id`);
}

// The db object the server gets, recording every statement it sends once `recording` is on.
function recordingDatabase(db) {
  const record = { on: false, statements: [] };
  const push = (text, params = []) => {
    if (record.on) record.statements.push({ text, params });
  };
  const scope = (target) =>
    new Proxy(target, {
      get(t, key) {
        if (key === 'query') return (text, params = []) => (push(text, params), t.query(text, params));
        if (key === 'exec') {
          return (text) => {
            for (const statement of text.split(/;\s*\n/)) push(statement.trim());
            return t.exec(text);
          };
        }
        if (key === 'transaction') {
          return (work, options = {}) => {
            if (options.opening) for (const statement of options.opening.split(/;\s*\n/)) push(statement.trim());
            return t.transaction((tx, opened) => work(scope(tx), opened), options);
          };
        }
        const value = t[key];
        return typeof value === 'function' ? value.bind(t) : value;
      },
    });
  return { db: scope(db), record };
}

test('every table is keyed by user_id: each has the column, every primary and unique key contains it', async () => {
  const { db } = fixture.database;
  assert.deepEqual(await catalogBreaches(db), []);
  // The check sees a breach: a table keyed by id alone.
  const rollback = new Error('scratch');
  await db
    .transaction(async (tx) => {
      await tx.query('CREATE TABLE keyed_by_id (id BIGSERIAL PRIMARY KEY, user_id BIGINT)');
      await tx.query('CREATE TABLE no_user (id BIGINT)');
      assert.deepEqual(await catalogBreaches(tx), ['table no_user has no BIGINT user_id', 'unique key keyed_by_id_pkey of keyed_by_id lacks user_id']);
      throw rollback;
    })
    .catch((error) => {
      if (error !== rollback) throw error;
    });
});

test('the statements of syncs, a state read and a review decision name their users, lock by user, and return immutable values', async () => {
  const { db, record } = recordingDatabase(fixture.database.db);
  const server = await startTestServer(db);
  try {
    record.on = true;
    const { clock, url } = server;
    const sync = (userId, body) => call(url, '/v1/sync', { method: 'POST', auth: dev(userId), body });
    const admin = (pathname) => call(url, pathname, { method: 'POST', auth: 'Bearer admin-token-for-tests-0123456789', body: {} });
    clock.set(START_MS);
    // A state read (first contact), a sync planned on a read row, one on the row this process
    // wrote, newcomers syncing together (one group of several users), a resend, a review.
    assert.equal((await call(url, '/v1/state?clientId=c-1', { auth: dev(5001) })).status, 200);
    clock.advance(HOUR_MS);
    assert.equal((await sync(5001, { clientId: 'c-1', ops: [accrualOp('c-1', 1, '0.10000000')] })).status, 200);
    clock.advance(HOUR_MS);
    assert.equal((await sync(5001, { clientId: 'c-1', ops: [accrualOp('c-1', 2, '0.10000000', { from: START_MS + HOUR_MS, to: START_MS + 2 * HOUR_MS })] })).status, 200);
    const many = await Promise.all(
      [5002, 5003, 5004, 5005].map((userId) => sync(userId, { clientId: 'c-1', ops: [accrualOp('c-1', 1, '2.00000000', { type: 'verification' })] })),
    );
    assert.deepEqual(many.map((a) => a.status), [200, 200, 200, 200]);
    assert.equal((await sync(5001, { clientId: 'c-1', ops: [accrualOp('c-1', 1, '0.10000000')] })).json.results[0].status, 'duplicate');
    const [item] = (await call(url, '/v1/admin/reviews?userId=5003', { auth: 'Bearer admin-token-for-tests-0123456789' })).json.reviews;
    assert.equal((await admin(`/v1/admin/users/5003/reviews/${item.id}/approve`)).status, 200);
    record.on = false;

    const statements = record.statements.filter((s) => s.text.length > 0);
    const tables = await userTables(fixture.database.db);
    const breaches = [];
    for (const statement of statements) breaches.push(...(await planBreaches(fixture.database.db, tables, statement)));
    assert.deepEqual(breaches, []);
    assert.ok(statements.some((s) => /FOR UPDATE/.test(s.text)), 'a locking statement was checked');
    assert.ok(statements.some((s) => /jsonb_to_recordset/.test(s.text) && /UPDATE user_earnings/.test(s.text)), 'a group write was checked');

    const returning = await returningBreaches(fixture.database.db, statements.map((s) => s.text));
    assert.deepEqual(returning.breaches, []);
    assert.ok(returning.items.length > 10, `RETURNING items checked: ${returning.items.length}`);
  } finally {
    await server.close();
  }
});

test('the checkers see breaches: a lock by id, a read joined only to another table, a stable function in RETURNING', async () => {
  const { db } = fixture.database;
  const tables = await userTables(db);
  const byId = await planBreaches(db, tables, { text: 'SELECT user_id FROM user_earnings WHERE id = $1 FOR UPDATE', params: [1] });
  assert.equal(byId.length, 1, byId.join('\n'));
  const joined = await planBreaches(db, tables, {
    text: `SELECT u.total_earned FROM jsonb_to_recordset($1::jsonb) AS m("userId" bigint) JOIN user_earnings u ON u.user_id = m."userId"`,
    params: ['[{"userId": 1}]'],
  });
  assert.equal(joined.length, 1, joined.join('\n'));
  const named = await planBreaches(db, tables, { text: 'SELECT id FROM earnings_review_queue WHERE user_id = $1 AND id = $2 FOR UPDATE', params: [1, 2] });
  assert.deepEqual(named, []);
  const stable = await returningBreaches(db, [
    `UPDATE user_earnings u SET updated_at = now() WHERE user_id = 1
     RETURNING u.user_id::text AS user_id, (EXTRACT(EPOCH FROM u.last_update) * 1000)::bigint::text AS ms, now() AS at`,
  ]);
  assert.deepEqual(stable.items, ['user_id::text', '(EXTRACT(EPOCH FROM last_update) * 1000)::bigint::text', 'now()']);
  assert.equal(stable.breaches.length, 2, stable.breaches.join('\n'));
  const old = fs.readFileSync(path.join(MIGRATIONS_DIR, '008_row_revision.sql'), 'utf8');
  assert.equal((await revisionBreaches(db, [{ proname: 'as in 008', prosrc: old }])).length, 1);
});

test('the row revision is a per-row counter: +1 per update, from any writer, and a row created again never matches its predecessor', async () => {
  const { db } = fixture.database;
  assert.deepEqual(await revisionBreaches(db), []);
  const revision = async () => (await db.query('SELECT revision::text AS r FROM user_earnings WHERE user_id = 5100'))[0].r;
  await db.query('INSERT INTO user_earnings (user_id) VALUES (5100)');
  const first = BigInt(await revision());
  await db.query('UPDATE user_earnings SET is_active = false WHERE user_id = 5100');
  await db.query('UPDATE user_earnings SET is_active = true WHERE user_id = 5100');
  assert.equal(BigInt(await revision()), first + 2n);
  const seen = new Set([first, first + 1n, first + 2n]);
  await db.query('DELETE FROM user_earnings WHERE user_id = 5100');
  await db.query('INSERT INTO user_earnings (user_id) VALUES (5100)');
  assert.ok(!seen.has(BigInt(await revision())), 'a new row starts past its predecessor');
});

test('the shard map places users as Citus does: hashint8 of user_id in equal ranges of the hash space (300 generated ids)', async () => {
  const { db } = fixture.database;
  const ids = fc.sample(fc.oneof(fc.integer({ min: 1, max: 2 ** 31 }), fc.maxSafeInteger().filter((n) => n > 0)), { numRuns: 300, seed: 13 });
  const counts = [1, 2, 3, 7, 32, 64, 1000];
  const rows = await db.query(
    `SELECT id::text AS id, n, LEAST((hashint8(id)::bigint + 2147483648) / (4294967296 / n), n - 1)::int AS shard
     FROM unnest($1::bigint[]) AS id, unnest($2::int[]) AS n`,
    [ids, counts],
  );
  assert.equal(rows.length, ids.length * counts.length);
  for (const row of rows) assert.equal(shardOf(Number(row.id), row.n), row.shard, `user ${row.id}, ${row.n} shards`);
});
