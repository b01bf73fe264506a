// The app's backend sets each user's rate (PUT /v1/admin/users/:userId/rate, app.setUserRate,
// setUserRate from ton-earnings-guard/server): time before the change is credited at the old rate,
// after it at the new one, exactly; audited; refused above MAX_RATE_PER_HOUR; the state a client
// is told carries the rate the server credits.
import assert from 'node:assert/strict';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { describe, test } from 'node:test';

import { setUserRate } from '../../server/index.js';
import { resolveConfig } from '../../server/config.js';
import { MIGRATIONS_DIR, migrate } from '../../server/migrate.js';
import {
  ADMIN_TOKEN,
  HOUR_MS,
  START_MS,
  accrualOp,
  call,
  formatUnits,
  ledger,
  openTestDatabase,
  serverFixture,
  tableCounts,
  units,
} from './helpers.js';

const fixture = serverFixture({ config: { maxRatePerHour: '10' } });
const { sync, state } = fixture;
let nextUser = 7_000_000_000;
const newUser = () => (nextUser += 1);
const MINUTE = 60_000;
const TOLERANCE_MS = 60_000;

const putRate = (userId, body, auth = `Bearer ${ADMIN_TOKEN}`) =>
  call(fixture.server.url, `/v1/admin/users/${userId}/rate`, { method: 'PUT', auth, body });

async function rateAudit(userId) {
  return fixture.database.db.query(
    `SELECT operation_type, source, old_value::text AS old_value, new_value::text AS new_value, metadata
     FROM earnings_audit_log WHERE user_id = $1 AND operation_type = 'rate_change' ORDER BY id`,
    [userId],
  );
}

async function rowOf(userId) {
  const [row] = await fixture.database.db.query(
    `SELECT base_earning_rate::text AS rate, earning_rate::text AS earning_rate, budget_settled::text AS settled,
       budget_anchor::text AS anchor
     FROM user_earnings WHERE user_id = $1`,
    [userId],
  );
  return row;
}

// floor(rate x ms / 1 h) in units, as the core budgets.
const budget = (rate, ms) => (units(rate) * BigInt(ms)) / BigInt(HOUR_MS);

describe('the app backend sets a user rate', () => {
  test('time before the change is credited at the old rate, after it at the new one, exactly', async () => {
    const userId = newUser();
    fixture.server.clock.set(START_MS);
    await state(userId);
    fixture.server.clock.advance(HOUR_MS);
    const changed = await putRate(userId, { rate: '2.5', note: 'boost bought' });
    assert.equal(changed.status, 200, changed.text);
    assert.equal(changed.json.state.baseEarningRate, '2.50000000');
    assert.equal(changed.json.serverTime, START_MS + HOUR_MS);
    fixture.server.clock.advance(30 * MINUTE);
    // Budget: 1 h at 1 TON/h settled, then 30 min + the 1 min tolerance at 2.5 TON/h.
    const answer = await sync(userId, { clientId: 'c-1', ops: [accrualOp('c-1', 1, '3')] });
    assert.deepEqual(answer.json.results, [
      { id: 'c-1:1', seq: 1, status: 'applied', credited: '2.29166666', review: '0.70833334' },
    ]);
    assert.equal(answer.json.state.baseEarningRate, '2.50000000');
    const [audit] = await rateAudit(userId);
    assert.deepEqual(
      { ...audit, metadata: undefined },
      { operation_type: 'rate_change', source: 'admin', old_value: '1.00000000', new_value: '2.50000000', metadata: undefined },
    );
    assert.equal(audit.metadata.settled, '1.00000000');
    assert.equal(audit.metadata.settledFromMs, START_MS);
    assert.equal(audit.metadata.note, 'boost bought');
    const money = await ledger(fixture.database.db, userId);
    assert.equal(money.total_earned, money.audit_credits, 'a rate change credits nothing by itself');
    assert.deepEqual(await rowOf(userId), { rate: '2.50000000', earning_rate: '2.50000000', settled: '0.00000000', anchor: String(START_MS + 91 * MINUTE) });
  });

  test('a client syncing across the change is credited what it mined at each rate', async () => {
    const userId = newUser();
    fixture.server.clock.set(START_MS);
    await state(userId);
    fixture.server.clock.advance(30 * MINUTE);
    let answer = await sync(userId, { clientId: 'c-1', ops: [accrualOp('c-1', 1, '0.5')] });
    assert.equal(answer.json.results[0].credited, '0.50000000');
    fixture.server.clock.advance(30 * MINUTE);
    assert.equal((await putRate(userId, { rate: '3' })).status, 200);
    fixture.server.clock.advance(20 * MINUTE);
    // 30 more minutes at 1 TON/h and 20 at 3 TON/h: 0.5 + 1.
    answer = await sync(userId, { clientId: 'c-1', ops: [accrualOp('c-1', 2, '1.5')] });
    assert.deepEqual(answer.json.results[0], { id: 'c-1:2', seq: 2, status: 'applied', credited: '1.50000000', review: '0.00000000' });
    assert.equal(answer.json.state.totalEarned, '2.00000000');
  });

  test('generated rates and times: credited is old x t1 + new x (t2 + tolerance), to the unit', async () => {
    let seed = 20261203;
    const next = (n) => {
      seed = (seed * 48271) % 2147483647;
      return seed % n;
    };
    for (let round = 0; round < 20; round += 1) {
      const userId = newUser();
      const oldRate = formatUnits(BigInt(1 + next(1_000_000_000)));
      const newRate = formatUnits(BigInt(1 + next(1_000_000_000)));
      const t1 = next(8 * HOUR_MS);
      const t2 = next(8 * HOUR_MS);
      fixture.server.clock.set(START_MS);
      await state(userId);
      await fixture.server.app.setUserRate(userId, oldRate);
      fixture.server.clock.advance(t1);
      await fixture.server.app.setUserRate(userId, newRate);
      fixture.server.clock.advance(t2);
      const answer = await sync(userId, { clientId: 'c-1', ops: [accrualOp('c-1', 1, '1000')] });
      const expected = budget(oldRate, t1) + budget(newRate, t2 + TOLERANCE_MS);
      assert.equal(answer.json.results[0].credited, formatUnits(expected), `old ${oldRate} x ${t1} ms, new ${newRate} x ${t2} ms`);
    }
  });

  test('a user the server has not seen gets a row at the new rate, its budget starting now', async () => {
    const userId = newUser();
    fixture.server.clock.set(START_MS);
    const changed = await putRate(userId, { rate: '4' });
    assert.equal(changed.status, 200, changed.text);
    assert.equal(changed.json.state.totalEarned, '0.00000000');
    assert.equal(changed.json.state.baseEarningRate, '4.00000000');
    assert.deepEqual(await rowOf(userId), { rate: '4.00000000', earning_rate: '4.00000000', settled: '0.00000000', anchor: String(START_MS) });
    const [audit] = await rateAudit(userId);
    assert.equal(audit.old_value, '1.00000000', 'the default rate it was created with');
    assert.equal(audit.metadata.settled, '0.00000000');
    fixture.server.clock.advance(15 * MINUTE);
    const answer = await sync(userId, { clientId: 'c-1', ops: [accrualOp('c-1', 1, '1')] });
    assert.equal(answer.json.results[0].credited, '1.00000000');
  });

  test('a legacy row without a budget anchor keeps none: nothing before first contact is settled', async () => {
    const userId = newUser();
    await fixture.database.db.query(
      `INSERT INTO user_earnings (user_id, current_earnings, earning_rate, base_earning_rate, total_earned, budget_anchor)
       VALUES ($1, 5, 2, 2, 5, NULL)`,
      [userId],
    );
    fixture.server.clock.set(START_MS);
    const changed = await putRate(userId, { rate: '6' });
    assert.equal(changed.status, 200, changed.text);
    assert.equal(changed.json.state.totalEarned, '5.00000000');
    assert.deepEqual(await rowOf(userId), { rate: '6.00000000', earning_rate: '6.00000000', settled: '0.00000000', anchor: null });
    fixture.server.clock.advance(10 * MINUTE);
    const answer = await sync(userId, { clientId: 'c-1', ops: [accrualOp('c-1', 1, '1')] });
    // The budget starts at this first sync: the tolerance's minute at 6 TON/h.
    assert.equal(answer.json.results[0].credited, '0.10000000');
  });

  test('refused: a rate above MAX_RATE_PER_HOUR, zero, malformed; no token; other fields; nothing written', async () => {
    const userId = newUser();
    fixture.server.clock.set(START_MS);
    await state(userId);
    const before = await tableCounts(fixture.database.db);
    for (const [body, status, code] of [
      [{ rate: '10.00000001' }, 422, 'RATE_INVALID'],
      [{ rate: '0' }, 422, 'RATE_INVALID'],
      [{ rate: '-1' }, 422, 'RATE_INVALID'],
      [{ rate: '1.123456789' }, 422, 'RATE_INVALID'],
      [{ rate: 2 }, 422, 'RATE_INVALID'],
      [{}, 422, 'RATE_INVALID'],
      [{ rate: '2', boost: true }, 400, 'REQUEST_INVALID'],
      [{ rate: '2', note: 'a\u0000b' }, 400, 'REQUEST_INVALID'],
    ]) {
      const answer = await putRate(userId, body);
      assert.equal(answer.status, status, `${JSON.stringify(body)}: ${answer.text}`);
      assert.equal(answer.json.error.code, code, JSON.stringify(body));
    }
    assert.equal((await putRate(userId, { rate: '2' }, 'Bearer wrong-token-wrong-token')).status, 403);
    assert.equal((await putRate(userId, { rate: '2' }, null)).status, 403);
    const get = await call(fixture.server.url, `/v1/admin/users/${userId}/rate`, { auth: `Bearer ${ADMIN_TOKEN}` });
    assert.equal(get.status, 405);
    assert.deepEqual(await tableCounts(fixture.database.db), before);
    assert.equal((await putRate(userId, { rate: '10' })).status, 200, 'the cap itself is allowed');
  });

  test('a row rate above the cap is told to clients as the cap, the rate it is credited at', async () => {
    const userId = newUser();
    fixture.server.clock.set(START_MS);
    await state(userId);
    await fixture.database.db.query('UPDATE user_earnings SET base_earning_rate = 50 WHERE user_id = $1', [userId]);
    const answer = await state(userId);
    assert.equal(answer.json.state.baseEarningRate, '10.00000000');
    fixture.server.clock.advance(6 * MINUTE);
    const synced = await sync(userId, { clientId: 'c-1', ops: [accrualOp('c-1', 1, '5')] });
    // 6 min + 1 min tolerance at the cap.
    assert.equal(synced.json.results[0].credited, '1.16666666');
    assert.equal(synced.json.state.baseEarningRate, '10.00000000');
  });

  test('setUserRate from ton-earnings-guard/server, on the database alone', async () => {
    const userId = newUser();
    const now = () => START_MS + 2 * HOUR_MS;
    const answer = await setUserRate(fixture.database.db, userId, '7.5', { note: 'referral', now, maxRatePerHour: '10' });
    assert.equal(answer.state.baseEarningRate, '7.50000000');
    assert.equal(answer.serverTime, START_MS + 2 * HOUR_MS);
    const [audit] = await rateAudit(userId);
    assert.equal(audit.new_value, '7.50000000');
    assert.equal(audit.metadata.note, 'referral');
    await assert.rejects(setUserRate(fixture.database.db, userId, '11', { maxRatePerHour: '10' }), { code: 'RATE_INVALID' });
    await assert.rejects(setUserRate(fixture.database.db, 0, '1'), { code: 'USER_ID_INVALID' });
  });
});

describe('DEFAULT_RATE_PER_HOUR above MAX_RATE_PER_HOUR', () => {
  test('refuses to start (CONFIG_INVALID); equal is fine', () => {
    assert.throws(() => resolveConfig({ defaultRatePerHour: '3600', maxRatePerHour: '1000' }), {
      code: 'CONFIG_INVALID',
      message: /DEFAULT_RATE_PER_HOUR \(3600\.00000000\) is above MAX_RATE_PER_HOUR \(1000\.00000000\)/,
    });
    assert.equal(resolveConfig({ defaultRatePerHour: '1000', maxRatePerHour: '1000.0' }).defaultRatePerHour, '1000.00000000');
  });
});

describe('upgrading a database that already holds rate changes', () => {
  test("the audit log's later migrations keep its 'admin' rows", async () => {
    const database = await openTestDatabase({ migrated: false });
    const upTo016 = fs.mkdtempSync(path.join(os.tmpdir(), 'teg-migrations-'));
    try {
      for (const name of fs.readdirSync(MIGRATIONS_DIR).filter((n) => n.endsWith('.sql') && n <= '016')) {
        fs.copyFileSync(path.join(MIGRATIONS_DIR, name), path.join(upTo016, name));
      }
      await migrate(database.db, { dir: upTo016 });
      await database.db.query(
        `INSERT INTO earnings_audit_log (user_id, operation_type, old_value, new_value, source)
         VALUES (42, 'rate_change', 1, 2, 'admin')`,
      );
      const applied = await migrate(database.db);
      assert.ok(applied.some((name) => name > '016'), 'later migrations ran over the admin row');
      const rows = await database.db.query(`SELECT source FROM earnings_audit_log WHERE user_id = 42`);
      assert.deepEqual(rows, [{ source: 'admin' }]);
    } finally {
      fs.rmSync(upTo016, { recursive: true, force: true });
      await database.drop();
    }
  });
});
