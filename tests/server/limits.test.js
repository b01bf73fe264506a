// Limits that keep one user or one peer from taking the server: requests per user per second,
// pending review items and client ids per user, connections per process, header timeouts, load
// shedding when the event loop lags. A refused sync writes nothing and says when to come back;
// its ops stay with the client and are accepted when it does.
import assert from 'node:assert/strict';
import net from 'node:net';
import { test } from 'node:test';

import { ADMIN_TOKEN, START_MS, accrualOp, call, ledger, serverFixture, startTestServer, tableCounts, units } from './helpers.js';

const fixture = serverFixture({
  config: {
    userRequestsPerS: 2,
    userRequestBurst: 3,
    maxPendingReviews: 3,
    maxClientsPerUser: 2,
  },
});
// The tests after the first keep within the rate limit: each request waits 2 s of server clock.
const sync = (userId, body) => {
  fixture.server.clock.advance(2000);
  return fixture.sync(userId, body);
};
const state = (userId, clientId) => {
  fixture.server.clock.advance(2000);
  return fixture.state(userId, clientId);
};

test('requests per user per second: beyond the burst 429 RATE_LIMITED with Retry-After, nothing written; other users unaffected', async () => {
  fixture.server.clock.set(START_MS);
  for (let i = 0; i < 3; i += 1) assert.equal((await fixture.state(9001, 'c-rate')).status, 200);
  const before = await tableCounts(fixture.database.db);
  const refused = await fixture.sync(9001, { clientId: 'c-rate', ops: [accrualOp('c-rate', 1, '0.00000100')] });
  assert.equal(refused.status, 429);
  assert.equal(refused.json.error.code, 'RATE_LIMITED');
  // One token comes back every 500 ms at 2 per second.
  assert.equal(refused.headers.get('retry-after'), '1');
  assert.deepEqual(await tableCounts(fixture.database.db), before);
  assert.equal((await fixture.state(9002, 'c-rate')).status, 200, 'another user has a bucket of its own');
  fixture.server.clock.advance(500);
  const later = await fixture.sync(9001, { clientId: 'c-rate', ops: [accrualOp('c-rate', 1, '0.00000100')] });
  assert.equal(later.status, 200, later.text);
  assert.equal(later.json.results[0].status, 'applied');
  assert.equal((await fixture.state(9001, 'c-rate')).status, 429, 'that request took the token');
});

// A sync that claims a whole TON after one minute at 1 TON per hour: most of it goes to review.
const greedyOp = (clientId, seq, fromMs) => accrualOp(clientId, seq, '1.00000000', { from: fromMs, to: fromMs + 60_000 });

test('pending reviews per user: a sync past the cap is refused whole (429 REVIEW_QUEUE_FULL), kept by the client, and accepted once reviews are decided', async () => {
  const userId = 9101;
  const clientId = 'c-greedy';
  fixture.server.clock.set(START_MS);
  await state(userId, clientId);
  for (let seq = 1; seq <= 3; seq += 1) {
    const from = fixture.server.clock.now();
    fixture.server.clock.advance(60_000);
    const answer = await sync(userId, { clientId, ops: [greedyOp(clientId, seq, from)] });
    assert.equal(answer.status, 200, answer.text);
    assert.notEqual(answer.json.results[0].review, '0.00000000');
  }
  const from = fixture.server.clock.now();
  fixture.server.clock.advance(60_000);
  const fourth = { clientId, ops: [greedyOp(clientId, 4, from)] };
  const before = await tableCounts(fixture.database.db);
  const refused = await sync(userId, fourth);
  assert.equal(refused.status, 429);
  assert.equal(refused.json.error.code, 'REVIEW_QUEUE_FULL');
  assert.equal(refused.headers.get('retry-after'), '300');
  assert.deepEqual(await tableCounts(fixture.database.db), before, 'nothing written, not even the op result');
  const logged = fixture.server.log.lines.find((line) => line.code === 'REVIEW_QUEUE_FULL');
  assert.equal(logged.userId, userId);
  assert.equal(logged.clientId, clientId);
  // An operator decides one item; the client's resend of the same op is then accepted, once.
  const [item] = (await call(fixture.server.url, `/v1/admin/reviews?userId=${userId}`, { auth: `Bearer ${ADMIN_TOKEN}` })).json.reviews;
  const decided = await call(fixture.server.url, `/v1/admin/reviews/${item.id}/reject`, {
    method: 'POST',
    auth: `Bearer ${ADMIN_TOKEN}`,
    body: { note: 'checked' },
  });
  assert.equal(decided.status, 200, decided.text);
  const accepted = await sync(userId, fourth);
  assert.equal(accepted.status, 200, accepted.text);
  assert.equal(accepted.json.results[0].status, 'applied');
  assert.equal((await sync(userId, fourth)).json.results[0].status, 'duplicate');
  const money = await ledger(fixture.database.db, userId);
  assert.equal(units(money.total_earned), units(money.credited_ops) + units(money.approved_reviews));
  assert.equal(money.pending_review, money.pending_reviews);
});

test('client ids per user: a new client past the cap is refused (429 TOO_MANY_CLIENTS) with its ops kept; known clients go on', async () => {
  const userId = 9201;
  fixture.server.clock.set(START_MS);
  await state(userId, 'c-a');
  fixture.server.clock.advance(60_000);
  for (const clientId of ['c-a', 'c-b']) {
    // Today's clients send `lease`; a pre-lease client would get c-b's partly refused op (its time
    // already counted for c-a) as `duplicate`.
    const answer = await sync(userId, { clientId, ops: [accrualOp(clientId, 1, '0.00000100')], lease: 'hold' });
    assert.equal(answer.json.results[0].status, 'applied', answer.text);
  }
  const before = await tableCounts(fixture.database.db);
  const refused = await sync(userId, { clientId: 'c-c', ops: [accrualOp('c-c', 1, '0.00000100')] });
  assert.equal(refused.status, 429);
  assert.equal(refused.json.error.code, 'TOO_MANY_CLIENTS');
  assert.ok(Number(refused.headers.get('retry-after')) > 0);
  assert.deepEqual(await tableCounts(fixture.database.db), before);
  // A sync of a new client with nothing fresh in it (here: a gap) writes no sequence: not refused.
  const gap = await sync(userId, { clientId: 'c-c', ops: [accrualOp('c-c', 5, '0.00000100')] });
  assert.equal(gap.json.results?.[0].status, 'gap', gap.text);
  fixture.server.clock.advance(60_000);
  const known = await sync(userId, { clientId: 'c-a', ops: [accrualOp('c-a', 2, '0.00000100')], lease: 'hold' });
  assert.equal(known.json.results[0].status, 'applied');
});

// Connects and resolves with the socket once the server answered a request on it (so the server
// has accepted it and counts it), keeping the connection open.
function heldConnection(port) {
  return new Promise((resolve, reject) => {
    const socket = net.connect(port, '127.0.0.1', () => socket.write('GET /healthz HTTP/1.1\r\nHost: x\r\n\r\n'));
    socket.once('data', () => resolve(socket));
    socket.once('error', reject);
    socket.once('close', () => reject(new Error('closed before an answer')));
  });
}

// A server of its own over the same database, reached only through the sockets a test opens.
async function withServer(config, work) {
  const server = await startTestServer(fixture.database.db, { config });
  try {
    await work(Number(new URL(server.url).port));
  } finally {
    await server.close();
  }
}

function closedAfter(port, text) {
  return new Promise((resolve) => {
    const received = [];
    const socket = net.connect(port, '127.0.0.1', () => socket.write(text));
    socket.on('data', (chunk) => received.push(chunk));
    socket.on('error', () => {});
    socket.on('close', () => resolve(Buffer.concat(received).toString('latin1')));
  });
}

test('connections per process: one past maxConnections is closed unanswered; the held ones still work', async () => {
  await withServer({ maxConnections: 4 }, async (port) => {
    const held = [];
    for (let i = 0; i < 4; i += 1) held.push(await heldConnection(port));
    assert.equal(await closedAfter(port, 'GET /healthz HTTP/1.1\r\nHost: x\r\n\r\n'), '');
    const answered = new Promise((resolve) => held[0].once('data', (chunk) => resolve(chunk.toString('latin1'))));
    held[0].write('GET /healthz HTTP/1.1\r\nHost: x\r\n\r\n');
    assert.match(await answered, /^HTTP\/1\.1 200/);
    for (const socket of held) socket.destroy();
  });
});

test('a request head that never ends is answered 408 and closed (headersTimeoutMs)', async () => {
  await withServer({ headersTimeoutMs: 1000, requestTimeoutMs: 2000 }, async (port) => {
    const answer = await closedAfter(port, 'GET /healthz HTTP/1.1\r\nHost: x\r\nX-Slow: ');
    assert.match(answer, /^HTTP\/1\.1 408/);
  });
});

test('load shedding: while the event loop lags past maxEventLoopDelayMs, requests get 503 OVERLOADED with Retry-After; answered again once it keeps up', async () => {
  await withServer({ maxEventLoopDelayMs: 20 }, async (port) => {
    const url = `http://127.0.0.1:${port}`;
    // The process's event loop held in 100 ms stretches, as by work it cannot keep up with, until
    // the server's once-a-second sample of the loop's delay sees it (bounded: 40 stretches).
    let shed = null;
    for (let stretch = 0; stretch < 40 && !shed; stretch += 1) {
      const until = performance.now() + 100;
      while (performance.now() < until);
      const answer = await call(url, '/healthz');
      if (answer.status !== 200) shed = answer;
    }
    assert.equal(shed?.status, 503, 'a lagging loop sheds requests');
    assert.equal(shed.json.error.code, 'OVERLOADED');
    assert.equal(shed.headers.get('retry-after'), '2');
    // Left alone, the loop keeps up again, and the next sample lets requests through.
    let answer = shed;
    for (let poll = 0; poll < 100 && answer.status !== 200; poll += 1) {
      await new Promise((resolve) => setTimeout(resolve, 50));
      answer = await call(url, '/healthz');
    }
    assert.equal(answer.status, 200);
  });
});
