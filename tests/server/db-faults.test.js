// Property 11 under database failures: random failures injected into the statements of a sync (a
// seeded wrapper around the server's db object) are each logged once, with the database error, the
// operation, the user and the client id; nothing is half-written, and the client's resend of the
// same batch is credited exactly once.
import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';

import fc from 'fast-check';

import { START_MS, accrualOp, call, dev, ledger, openTestDatabase, startTestServer, units } from './helpers.js';

const RUNS = 100;

// The db object the server sees: the real one, with `fault()` asked before each statement (query,
// exec, and those inside a transaction). A fault `{ when: 'before' }` fails the statement without
// running it; `{ when: 'after' }` runs it, then fails as if its reply was lost on the way back (for
// a statement outside a transaction, its effect is committed). The error has a SQLSTATE `code`.
function faultyDatabase(db, fault) {
  const wrap = (run) => async (...args) => {
    const planned = fault();
    if (planned?.when === 'before') throw planned.error;
    const result = await run(...args);
    if (planned?.when === 'after') throw planned.error;
    return result;
  };
  const scope = (target) => ({ query: wrap(target.query.bind(target)), exec: wrap(target.exec.bind(target)) });
  return {
    ...db,
    ...scope(db),
    transaction: (work, options) => db.transaction((tx, opened) => work(scope(tx), opened), options),
    close: () => {},
  };
}

const fixture = { database: null };
let server;
let faults = [];

before(async () => {
  fixture.database = await openTestDatabase();
  server = await startTestServer(faultyDatabase(fixture.database.db, () => faults.shift() ?? null));
});

after(async () => {
  await server?.close();
  await fixture.database?.drop();
});

// Failures a database really answers with: a server fault, a lost connection, the serialization
// and shutdown errors the server answers 503 for.
const errorArb = fc
  .tuple(fc.constantFrom('XX000', '08006', '40001', '57P01', '53300'), fc.string({ minLength: 1, maxLength: 20 }))
  .map(([code, text]) => Object.assign(new Error(`injected ${code}: ${text}`), { code }));
// One failure at the `at`-th statement of the sync (none when the sync makes fewer), or none.
const faultsArb = fc.option(
  fc.record({ at: fc.nat(4), when: fc.constantFrom('before', 'after'), error: errorArb }).map(({ at, when, error }) => [
    ...Array(at).fill(null),
    { when, error },
  ]),
  { nil: [] },
);

let nextUser = 7_300_000_000;
const seen = { failed: 0, resentDuplicate: 0 };

test('Property 11: Error Logging Completeness - every injected database failure of a sync is logged once with the error, operation, user and client id; nothing half-written', async () => {
  await fc.assert(
    fc.asyncProperty(
      faultsArb,
      fc.array(fc.integer({ min: 1, max: 50_000 }), { minLength: 1, maxLength: 3 }),
      fc.boolean(),
      async (planned, amounts, returning) => {
        const userId = nextUser;
        nextUser += 1;
        const clientId = 'c-faults';
        server.clock.set(START_MS);
        if (returning) {
          // A user the server has seen: the sync takes the remembered-row path.
          faults = [];
          const first = await call(server.url, '/v1/state?clientId=c-faults', { auth: dev(userId) });
          assert.equal(first.status, 200, first.text);
        }
        const to = server.clock.advance(10 * 60_000);
        const ops = amounts.map((amount, i) =>
          accrualOp(clientId, i + 1, `0.${String(amount).padStart(8, '0')}`, { from: START_MS + i, to: to - amounts.length + i + 1 }),
        );
        const mark = server.log.lines.length;
        faults = [...planned];
        const answer = await call(server.url, '/v1/sync', { method: 'POST', auth: dev(userId), body: { clientId, ops } });
        const fired = planned.length - faults.length - planned.slice(0, planned.length - faults.length).filter((f) => f === null).length;
        faults = [];
        const failures = server.log.lines.slice(mark).filter((line) => line.level >= 50);
        if (answer.status === 200) {
          assert.equal(fired, 0, 'a fault that fired fails the request');
          assert.equal(failures.length, 0);
        } else {
          assert.ok(answer.status >= 500, `${answer.status} ${answer.text}`);
          assert.equal(fired, 1, 'the first failure ends the request');
          assert.equal(failures.length, 1, 'one log line per failure');
          const [line] = failures;
          const injected = planned.find((f) => f !== null).error;
          assert.equal(line.operation, 'sync');
          assert.equal(line.userId, userId);
          assert.equal(line.clientId, clientId);
          assert.equal(line.err.message, injected.message);
          assert.equal(line.err.code, injected.code);
          assert.equal(line.status, answer.status);
          // A database that is restarting, unreachable or asking for a retry is 503 with
          // Retry-After; anything else is a fault of ours, 500.
          const unavailable = ['08006', '40001', '57P01', '53300'].includes(injected.code);
          assert.equal(answer.status, unavailable ? 503 : 500);
          if (unavailable) assert.equal(answer.headers.get('retry-after'), '1');
          // The client resends the same batch: each op credited now or answered as the first time.
          const resent = await call(server.url, '/v1/sync', { method: 'POST', auth: dev(userId), body: { clientId, ops } });
          assert.equal(resent.status, 200, resent.text);
          seen.failed += 1;
          if (resent.json.results.some((result) => result.status === 'duplicate')) seen.resentDuplicate += 1;
          for (const result of resent.json.results) assert.ok(['applied', 'duplicate'].includes(result.status), result.status);
        }
        const rows = await fixture.database.db.query(
          'SELECT seq::int AS seq, credited::text AS credited FROM sync_op_results WHERE user_id = $1 ORDER BY seq',
          [userId],
        );
        assert.deepEqual(
          rows.map((row) => row.seq),
          ops.map((op) => op.seq),
          'every op recorded exactly once',
        );
        const money = await ledger(fixture.database.db, userId);
        assert.equal(units(money.total_earned), units(money.credited_ops) + units(money.approved_reviews));
        assert.equal(money.total_earned, money.audit_credits);
        assert.equal(money.pending_review, money.pending_reviews);
      },
    ),
    { numRuns: RUNS, seed: 1111 },
  );
  // The generator reaches both kinds of failure: ones that wrote nothing, and ones after the write
  // committed, whose resend is answered duplicate.
  assert.ok(seen.failed >= 20, JSON.stringify(seen));
  assert.ok(seen.resentDuplicate >= 3, JSON.stringify(seen));
});
