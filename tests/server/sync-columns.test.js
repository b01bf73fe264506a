// The seed's sync columns as the server's view of each user's syncs (docs/DESIGN.md, "The sync
// columns"): last_sync_attempt is the server time of the last sync it recorded or refused,
// retry_count the failed attempts since the last one that credited or queued something, and
// sync_status 'failed' after such attempts, 'pending' while items wait for review, 'synced'
// otherwise; the operator's "whose syncs keep failing" query (README) is served by the seed's
// index on failing rows (the seed's idx_user_earnings_retry until migration 023 made it
// idx_user_earnings_failing, so that a sync's update of its row stays HOT).
import assert from 'node:assert/strict';
import { test } from 'node:test';

import { START_MS, accrualOp, readmeSql, serverFixture } from './helpers.js';

const fixture = serverFixture();
const { sync, state, admin } = fixture;

// The README's operator query.
const FAILING_SYNCS = readmeSql("WHERE sync_status = 'failed'");

async function syncColumns(userId) {
  const rows = await fixture.database.db.query(
    `SELECT sync_status, retry_count,
       (EXTRACT(EPOCH FROM last_sync_attempt - TIMESTAMP WITH TIME ZONE 'epoch') * 1000)::bigint::text AS attempt_ms
     FROM user_earnings WHERE user_id = $1`,
    [userId],
  );
  return rows.length === 0 ? null : { status: rows[0].sync_status, retries: rows[0].retry_count, attempt: rows[0].attempt_ms === null ? null : Number(rows[0].attempt_ms) };
}

// An op whose id does not match its client: the core refuses the whole sync (400).
const refused = (clientId) => ({ clientId, ops: [{ ...accrualOp(clientId, 1, '0.10000000'), id: 'someone-else:1' }] });

test('syncs, refusals, rejected ops and reviews move the sync columns; the operator finds failing users through the seed index', async () => {
  const { clock } = fixture.server;
  clock.set(START_MS);
  const [steady, failing, worse, reviewed, overflowing, stranger] = [61_000_001, 61_000_002, 61_000_003, 61_000_004, 61_000_005, 61_000_006];
  for (const userId of [steady, failing, worse, reviewed, overflowing]) assert.equal((await state(userId)).status, 200);
  assert.deepEqual(await syncColumns(steady), { status: 'synced', retries: 0, attempt: null });

  clock.advance(60_000);
  assert.equal((await sync(steady, { clientId: 'c-1', ops: [accrualOp('c-1', 1, '0.01000000')] })).status, 200);
  assert.deepEqual(await syncColumns(steady), { status: 'synced', retries: 0, attempt: clock.now() });

  // Refused syncs count as failed attempts, each at its own time; the row is never behind the answer.
  for (const [userId, times] of [[failing, 2], [worse, 3]]) {
    for (let i = 0; i < times; i += 1) {
      clock.advance(1000);
      const answer = await sync(userId, refused('c-1'));
      assert.equal(answer.status, 400, answer.text);
      assert.deepEqual(await syncColumns(userId), { status: 'failed', retries: i + 1, attempt: clock.now() });
    }
  }
  // Refused at once (they gather into one write), each is counted.
  clock.advance(1000);
  const together = await Promise.all(Array.from({ length: 4 }, () => sync(failing, refused('c-1'))));
  assert.deepEqual(together.map((a) => a.status), [400, 400, 400, 400]);
  assert.deepEqual(await syncColumns(failing), { status: 'failed', retries: 6, attempt: clock.now() });
  // A refused stranger gets no row.
  assert.equal((await sync(stranger, refused('c-1'))).status, 400);
  assert.equal(await syncColumns(stranger), null);

  // Every new op rejected (the balance is at the largest amount): a failed attempt too.
  await fixture.database.db.query(`UPDATE user_earnings SET total_earned = '9999999999.99999999' WHERE user_id = $1`, [overflowing]);
  clock.advance(1000);
  const overflow = await sync(overflowing, { clientId: 'c-1', ops: [accrualOp('c-1', 1, '0.00000100')] });
  assert.deepEqual(overflow.json.results.map((r) => [r.status, r.code]), [['rejected', 'AMOUNT_OVERFLOW']]);
  assert.deepEqual(await syncColumns(overflowing), { status: 'failed', retries: 1, attempt: clock.now() });

  const operator = await fixture.database.db.query(FAILING_SYNCS);
  assert.deepEqual(
    operator.map((r) => [Number(r.user_id), r.retry_count]),
    [[failing, 6], [worse, 3], [overflowing, 1]],
  );
  const plan = await fixture.database.db.transaction(async (tx) => {
    // Forbid the scans a table this small would get anyway: the index must serve the filter and
    // the order by itself.
    await tx.exec('SET LOCAL enable_seqscan = off; SET LOCAL enable_bitmapscan = off');
    return (await tx.exec(`EXPLAIN ${FAILING_SYNCS}`))[0].rows.map((r) => r['QUERY PLAN']).join('\n');
  });
  assert.match(plan, /Index Scan Backward using idx_user_earnings_failing on user_earnings/);

  // A sync that credits again ends the run of failures.
  clock.advance(60_000);
  const next = await sync(failing, { clientId: 'c-2', ops: [accrualOp('c-2', 1, '0.00100000')] });
  assert.deepEqual(next.json.results.map((r) => r.status), ['applied']);
  assert.deepEqual(await syncColumns(failing), { status: 'synced', retries: 0, attempt: clock.now() });
  assert.equal(next.json.state.syncStatus, 'synced');

  // Items waiting for review: 'pending' (also in the state answer) until they are decided.
  clock.advance(1000);
  const queued = await sync(reviewed, { clientId: 'c-1', ops: [accrualOp('c-1', 1, '2.00000000', { type: 'verification' })] });
  assert.deepEqual(queued.json.results.map((r) => r.status), ['review']);
  assert.equal(queued.json.state.syncStatus, 'pending');
  assert.deepEqual(await syncColumns(reviewed), { status: 'pending', retries: 0, attempt: clock.now() });
  const [item] = (await admin(`/v1/admin/reviews?userId=${reviewed}`)).json.reviews;
  assert.equal((await admin(`/v1/admin/reviews/${item.id}/approve`, { note: 'checked' })).status, 200);
  assert.equal((await syncColumns(reviewed)).status, 'synced');
  assert.equal((await state(reviewed)).json.state.syncStatus, 'synced');

  assert.deepEqual(
    (await fixture.database.db.query(FAILING_SYNCS)).map((r) => Number(r.user_id)),
    [worse, overflowing],
  );

  // However often a client is refused, the count stops at the column's largest value and the
  // answers stay what they were.
  const LARGEST = 2147483647;
  await fixture.database.db.query('UPDATE user_earnings SET retry_count = $2 WHERE user_id = $1', [worse, LARGEST - 1]);
  await fixture.database.db.query('UPDATE user_earnings SET retry_count = $2 WHERE user_id = $1', [overflowing, LARGEST]);
  clock.advance(1000);
  assert.deepEqual((await Promise.all([sync(worse, refused('c-1')), sync(worse, refused('c-1'))])).map((a) => a.status), [400, 400]);
  const again = await sync(overflowing, { clientId: 'c-1', ops: [accrualOp('c-1', 2, '0.00000100')] });
  assert.deepEqual(again.json.results.map((r) => r.status), ['rejected']);
  assert.deepEqual(await syncColumns(worse), { status: 'failed', retries: LARGEST, attempt: clock.now() });
  assert.deepEqual(await syncColumns(overflowing), { status: 'failed', retries: LARGEST, attempt: clock.now() });
});
