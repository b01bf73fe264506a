// SIGTERM drains the server (a child process running server/main.js): new requests get 503
// DRAINING with Retry-After, /healthz says draining, the sync in flight finishes and is credited,
// then the process exits 0; a request that does not finish by DRAIN_TIMEOUT_MS is cut and the
// process exits 1. On PGlite the child keeps its database in a folder the test reads afterwards.
import assert from 'node:assert/strict';
import fs from 'node:fs';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { test } from 'node:test';

import { openDatabase } from '../../server/db.js';
import { startChildServer } from './child-server.js';
import { openTestDatabase } from './helpers.js';

const USER = 4_200_000_001;

// A database for one child server: { env, open(), done() }; open() reads what the child wrote
// (on PGlite only once the child has exited: the folder is its alone while it runs).
async function childDatabase() {
  const database = await openTestDatabase();
  if (database.url) return { env: { DATABASE_URL: database.url }, open: async () => database.db, done: () => database.drop() };
  await database.drop();
  const dataDir = fs.mkdtempSync(path.join(os.tmpdir(), 'earnings-drain-'));
  let reader = null;
  return {
    env: { DATA_DIR: dataDir },
    async open() {
      reader ??= await openDatabase({ dataDir });
      return reader;
    },
    async done() {
      await reader?.close();
      fs.rmSync(dataDir, { recursive: true, force: true });
    },
  };
}

// A sync whose head the server has parsed (it answered `100 Continue`) and whose body is held
// back: a request in flight. send() delivers the body; `answer` resolves with all the server wrote
// on this connection once it closes it.
async function syncInFlight(port, userId, body) {
  const text = JSON.stringify(body);
  const socket = net.connect(port, '127.0.0.1');
  let received = '';
  const answer = new Promise((resolve) => {
    socket.on('close', () => resolve(received));
  });
  socket.on('error', () => {});
  await new Promise((resolve) => {
    socket.on('data', (chunk) => {
      received += chunk.toString('latin1');
      if (received.includes('100 Continue')) resolve();
    });
    socket.write(
      `POST /v1/sync HTTP/1.1\r\nHost: x\r\nAuthorization: dev ${userId}\r\nContent-Type: application/json\r\n` +
        `Content-Length: ${Buffer.byteLength(text)}\r\nConnection: close\r\nExpect: 100-continue\r\n\r\n`,
    );
  });
  return { answer, send: () => socket.write(text) };
}

// One request on a connection of its own (a pooled keep-alive connection would be closed under
// the client by the drain): { status, headers, json }.
function request(port, method, target, { userId, body } = {}) {
  const text = body === undefined ? '' : JSON.stringify(body);
  return new Promise((resolve, reject) => {
    const socket = net.connect(port, '127.0.0.1', () => {
      socket.write(
        `${method} ${target} HTTP/1.1\r\nHost: x\r\nConnection: close\r\n` +
          (userId ? `Authorization: dev ${userId}\r\n` : '') +
          (text ? `Content-Type: application/json\r\nContent-Length: ${Buffer.byteLength(text)}\r\n` : '') +
          `\r\n${text}`,
      );
    });
    const chunks = [];
    socket.on('data', (chunk) => chunks.push(chunk));
    socket.on('error', reject);
    socket.on('close', () => {
      const answer = Buffer.concat(chunks).toString('utf8');
      const headEnd = answer.indexOf('\r\n\r\n');
      const head = answer.slice(0, headEnd);
      const headers = Object.fromEntries(
        head.split('\r\n').slice(1).map((line) => [line.slice(0, line.indexOf(':')).toLowerCase(), line.slice(line.indexOf(':') + 1).trim()]),
      );
      resolve({ status: Number(head.slice(9, 12)), headers, json: JSON.parse(answer.slice(headEnd + 4)) });
    });
  });
}

const op = (seq) => {
  const to = Date.now();
  return { id: `c-drain:${seq}`, seq, type: 'accrual', amount: '0.00000100', from: to - 1000, to, rate: '1000' };
};

test('SIGTERM drains: new requests 503 DRAINING with Retry-After, /healthz draining, the sync in flight is credited, exit 0; a repeated stop does not cut the drain short', async () => {
  const database = await childDatabase();
  try {
    const server = await startChildServer({ ...database.env, DRAIN_TIMEOUT_MS: '60000' });
    const first = await request(server.port, 'POST', '/v1/sync', { userId: USER, body: { clientId: 'c-drain', ops: [op(1)] } });
    assert.equal(first.json.results[0].status, 'applied', JSON.stringify(first.json));
    const inFlight = await syncInFlight(server.port, USER, { clientId: 'c-drain', ops: [op(2)] });
    server.child.kill('SIGTERM');
    await server.waitFor((line) => /^draining/.test(line.msg ?? ''));
    // The same stop again, as `npx` forwards one the process group got too (systemd, Ctrl-C).
    server.child.kill('SIGTERM');
    server.child.kill('SIGINT');
    for (const signal of ['SIGTERM', 'SIGINT']) {
      await server.waitFor((line) => line.msg === 'already stopping: the drain goes on' && line.signal === signal);
    }
    const refused = await request(server.port, 'POST', '/v1/sync', { userId: USER, body: { clientId: 'c-drain', ops: [op(3)] } });
    assert.equal(refused.status, 503);
    assert.equal(refused.json.error.code, 'DRAINING');
    assert.equal(refused.headers['retry-after'], '5');
    const health = await request(server.port, 'GET', '/healthz');
    assert.equal(health.status, 503);
    assert.equal(health.json.draining, true);
    inFlight.send();
    const answer = await inFlight.answer;
    assert.match(answer, /HTTP\/1\.1 200 OK/);
    assert.match(answer, /"status":"applied"/);
    assert.deepEqual(await server.exited, { code: 0, signal: null });
    assert.equal(server.lines.find((line) => line.msg === 'drained').finished, true);
    const db = await database.open();
    const rows = await db.query(
      `SELECT seq::int AS seq, status FROM sync_op_results WHERE user_id = $1 ORDER BY seq`,
      [USER],
    );
    assert.deepEqual(rows, [{ seq: 1, status: 'applied' }, { seq: 2, status: 'applied' }], 'op 3 was refused, not written');
  } finally {
    await database.done();
  }
});

test('a request still unfinished at DRAIN_TIMEOUT_MS is cut and the process exits 1; nothing of it is written', async () => {
  const database = await childDatabase();
  try {
    const server = await startChildServer({ ...database.env, DRAIN_TIMEOUT_MS: '1000' });
    const stuck = await syncInFlight(server.port, USER, { clientId: 'c-drain', ops: [op(1)] });
    server.child.kill('SIGTERM');
    // Its body never comes: the connection is cut at the deadline.
    assert.doesNotMatch(await stuck.answer, /HTTP\/1\.1 200/);
    assert.deepEqual(await server.exited, { code: 1, signal: null });
    assert.equal(server.lines.find((line) => line.msg === 'drained').finished, false);
    const db = await database.open();
    const [row] = await db.query('SELECT COUNT(*)::int AS n FROM sync_op_results WHERE user_id = $1', [USER]);
    assert.equal(row.n, 0);
  } finally {
    await database.done();
  }
});
