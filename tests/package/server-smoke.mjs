// The server as an operator installs it: `node server-smoke.mjs <folder>`, where only the packed
// tarball is installed (--omit=dev), against the PostgreSQL in DATABASE_URL (scripts/pg-throwaway.sh). It runs
// `npx ton-earnings-guard-server migrate`, then `serve`, syncs one Telegram user through it and
// checks the credit in the database, then stops the server with SIGTERM.
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import readline from 'node:readline';

import pg from 'pg';

import { signInitData } from '../../server/auth.js';

const BOT_TOKEN = '123456789:AAEpackageSmokeTestTokenForTheServer';
const USER_ID = 5_000_000_123; // past 2^32, as Telegram ids are
const CLIENT_ID = 'pkg-smoke';
const consumer = path.resolve(process.argv[2]);
const env = { ...process.env, BOT_TOKEN, PORT: '0', HOST: '127.0.0.1' };
assert.ok(env.DATABASE_URL, 'DATABASE_URL (run under scripts/pg-throwaway.sh)');

function cli(command) {
  return spawn('npx', ['--no', 'ton-earnings-guard-server', command], { cwd: consumer, env, stdio: ['ignore', 'pipe', 'inherit'] });
}

// Every pino line the process writes, parsed, as they come; `found` resolves with the first line
// that matches `until`.
function logLines(child, until = () => false) {
  const lines = [];
  const found = new Promise((resolve, reject) => {
    readline.createInterface({ input: child.stdout }).on('line', (text) => {
      const line = JSON.parse(text);
      lines.push(line);
      if (until(line)) resolve(line);
    });
    child.once('exit', (code) => reject(new Error(`exited with ${code} before the awaited line; log: ${JSON.stringify(lines)}`)));
  });
  found.catch(() => {});
  return { lines, found };
}

const exited = (child) => new Promise((resolve) => child.once('exit', (code, signal) => resolve({ code, signal })));

const migrations = fs
  .readdirSync(path.join(consumer, 'node_modules/ton-earnings-guard/server/migrations'))
  .filter((name) => name.endsWith('.sql'));

console.log('-- npx ton-earnings-guard-server migrate');
const migrating = cli('migrate');
const migrateLog = logLines(migrating);
assert.deepEqual(await exited(migrating), { code: 0, signal: null });
const applied = migrateLog.lines.find((line) => Array.isArray(line.applied));
assert.equal(applied?.applied.length, migrations.length, JSON.stringify(migrateLog.lines));

console.log('-- npx ton-earnings-guard-server serve');
const serving = cli('serve');
const serveLog = logLines(serving, (line) => line.msg === 'earnings server listening');
const stopped = exited(serving);
// npx runs the server as a grandchild and does not pass signals on to it, so the server is
// signalled by the pid it logs; whatever fails below, it does not outlive this test.
const { url, pid } = await serveLog.found;
process.once('exit', () => {
  try {
    process.kill(pid, 'SIGKILL');
  } catch {}
});
try {
  assert.equal(serveLog.lines.some((line) => line.migrations), false, 'serve found the schema current');
  const auth = `tma ${signInitData({ auth_date: String(Math.floor(Date.now() / 1000)), user: JSON.stringify({ id: USER_ID, first_name: 'Smoke' }) }, BOT_TOKEN)}`;
  const first = await fetch(`${url}/v1/state?clientId=${CLIENT_ID}`, { headers: { Authorization: auth } });
  assert.equal(first.status, 200, await first.clone().text());
  assert.equal((await first.json()).state.totalEarned, '0.00000000');

  // 0.001 TON at the default 1 TON/h is 3.6 s of mining, inside the tolerance the server allows.
  const to = Date.now();
  const op = { id: `${CLIENT_ID}:1`, seq: 1, type: 'accrual', amount: '0.00100000', from: to - 3600, to, rate: '1.00000000' };
  const synced = await fetch(`${url}/v1/sync`, {
    method: 'POST',
    headers: { Authorization: auth, 'Content-Type': 'application/json' },
    body: JSON.stringify({ clientId: CLIENT_ID, ops: [op] }),
  });
  assert.equal(synced.status, 200, await synced.clone().text());
  const answer = await synced.json();
  assert.deepEqual(answer.results, [{ id: op.id, seq: 1, status: 'applied', credited: '0.00100000', review: '0.00000000' }]);

  const client = new pg.Client({ connectionString: env.DATABASE_URL });
  await client.connect();
  try {
    const { rows } = await client.query(
      `SELECT u.total_earned::text AS total_earned, a.new_value::text AS audited, a.op_id
       FROM user_earnings u JOIN earnings_audit_log a ON a.user_id = u.user_id
       WHERE u.user_id = $1`,
      [USER_ID],
    );
    assert.deepEqual(rows, [{ total_earned: '0.00100000', audited: '0.00100000', op_id: op.id }]);
  } finally {
    await client.end();
  }
  console.log(`server ok: ${url} credited ${answer.state.totalEarned} TON to user ${USER_ID}`);
} finally {
  process.kill(pid, 'SIGTERM');
}
assert.deepEqual(await stopped, { code: 0, signal: null }, 'SIGTERM stops the server cleanly');
assert.ok(serveLog.lines.some((line) => line.msg === 'stopping' && line.signal === 'SIGTERM'));
