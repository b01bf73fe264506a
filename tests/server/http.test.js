// The HTTP surface: refused requests (bad identity, bad bodies) answer a stable 4xx code and write
// nothing; CORS, health, metrics, static files and the admin guard.
import assert from 'node:assert/strict';
import fs from 'node:fs';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { after, before, describe, test } from 'node:test';

import fc from 'fast-check';

import {
  ADMIN_TOKEN,
  BOT_TOKEN,
  START_MS,
  accrualOp,
  call,
  dev,
  initDataFor,
  serverFixture,
  tableCounts,
} from './helpers.js';

let staticRoot;

// Registered before the fixture, so the files exist when its server starts.
before(() => {
  staticRoot = fs.mkdtempSync(path.join(os.tmpdir(), 'earnings-static-'));
  fs.mkdirSync(path.join(staticRoot, 'demo'));
  fs.mkdirSync(path.join(staticRoot, 'dist'));
  fs.writeFileSync(path.join(staticRoot, 'demo', 'index.html'), '<h1>demo</h1>');
  fs.writeFileSync(path.join(staticRoot, 'dist', 'earnings-core.wasm'), Buffer.from([0, 97, 115, 109, 1, 0, 0, 0]));
  fs.writeFileSync(path.join(staticRoot, 'secret.txt'), 'not served');
});

const fixture = serverFixture({
  config: () => ({
    maxBodyBytes: 4096,
    staticDirs: [
      { prefix: '/', dir: path.join(staticRoot, 'demo') },
      { prefix: '/dist', dir: path.join(staticRoot, 'dist') },
    ],
  }),
});

// Registered after the fixture, so the files go once its server is closed.
after(() => {
  fs.rmSync(staticRoot, { recursive: true, force: true });
});

const validBody = (clientId = 'c-http') => ({ clientId, ops: [accrualOp(clientId, 1, '0.00010000')] });

describe('refused identities write nothing', () => {
  test('Security: forged, expired, tampered and missing initData get 401 and no row', async () => {
    const forged = initDataFor(501, { botToken: '987654321:AAEanotherBotTokenThatIsNotOurs' });
    const expired = initDataFor(502, { authDateS: Math.floor(START_MS / 1000) - 2 * 86400 });
    const tampered = initDataFor(503).replace('miner503', 'miner504');
    const before = await tableCounts(fixture.database.db);
    for (const [auth, code] of [
      [`tma ${forged}`, 'AUTH_INVALID'],
      [`tma ${expired}`, 'AUTH_EXPIRED'],
      [`tma ${tampered}`, 'AUTH_INVALID'],
      [undefined, 'AUTH_REQUIRED'],
      ['Basic dXNlcjpwYXNz', 'AUTH_INVALID'],
    ]) {
      for (const [method, route, body] of [
        ['POST', '/v1/sync', validBody()],
        ['GET', '/v1/state?clientId=c-http', undefined],
      ]) {
        const answer = await call(fixture.server.url, route, { method, auth, body });
        assert.equal(answer.status, 401, `${route} ${auth}`);
        assert.equal(answer.json.error.code, code);
      }
    }
    assert.deepEqual(await tableCounts(fixture.database.db), before);
  });

  test('Security: the bot token and raw initData never appear in the logs', async () => {
    const initData = initDataFor(505, { botToken: '987654321:AAEanotherBotTokenThatIsNotOurs' });
    await call(fixture.server.url, '/v1/sync', { method: 'POST', auth: `tma ${initData}`, body: validBody() });
    const text = fixture.server.log.raw();
    assert.ok(text.includes('AUTH_INVALID'));
    assert.ok(!text.includes(BOT_TOKEN));
    assert.ok(!text.includes(new URLSearchParams(initData).get('hash')));
  });

  test('a valid initData is accepted and the user id comes from it, not the body', async () => {
    const answer = await call(fixture.server.url, '/v1/state?clientId=c-http', { auth: `tma ${initDataFor(7_000_000_123)}` });
    assert.equal(answer.status, 200);
    assert.equal(answer.json.state.userId, 7_000_000_123);
    const [row] = await fixture.database.db.query('SELECT COUNT(*)::int AS n FROM user_earnings WHERE user_id = 7000000123');
    assert.equal(row.n, 1);
  });
});

describe('refused bodies write nothing', () => {
  test('malformed JSON, non-objects, bad UTF-8 and bad client ids: 400 REQUEST_INVALID', async () => {
    const before = await tableCounts(fixture.database.db);
    const bodies = [
      '{"clientId":',
      'null',
      '[]',
      '"text"',
      '42',
      '',
      Buffer.from([0x7b, 0xff, 0xfe, 0x7d]),
      JSON.stringify({ clientId: 'bad id!', ops: [] }),
      JSON.stringify({ clientId: 'x'.repeat(65), ops: [] }),
      JSON.stringify({ clientId: 5, ops: [] }),
    ];
    for (const body of bodies) {
      const answer = await call(fixture.server.url, '/v1/sync', { method: 'POST', auth: dev(601), body });
      assert.equal(answer.status, 400, String(body));
      assert.equal(answer.json.error.code, 'REQUEST_INVALID');
      assert.ok(answer.json.error.message.length > 0);
    }
    assert.deepEqual(await tableCounts(fixture.database.db), before);
  });

  test('an oversized body: 413 PAYLOAD_TOO_LARGE, by declared length and by streamed length', async () => {
    const before = await tableCounts(fixture.database.db);
    const big = JSON.stringify({ clientId: 'c-big', ops: [], padding: 'x'.repeat(5000) });
    const declared = await call(fixture.server.url, '/v1/sync', { method: 'POST', auth: dev(602), body: big });
    assert.equal(declared.status, 413);
    assert.equal(declared.json.error.code, 'PAYLOAD_TOO_LARGE');
    const stream = new ReadableStream({
      start(controller) {
        controller.enqueue(new TextEncoder().encode(big));
        controller.close();
      },
    });
    const streamed = await fetch(`${fixture.server.url}/v1/sync`, {
      method: 'POST',
      headers: { Authorization: dev(602) },
      body: stream,
      duplex: 'half',
    });
    assert.equal(streamed.status, 413);
    assert.deepEqual(await tableCounts(fixture.database.db), before);
  });

  test('Security: arbitrary bytes as a sync body never crash the server or write anything (>= 100 cases)', async () => {
    const before = await tableCounts(fixture.database.db);
    await fc.assert(
      fc.asyncProperty(
        fc.oneof(
          fc.string({ maxLength: 200 }),
          fc.json({ maxDepth: 3 }),
          fc.jsonValue({ maxDepth: 3 }).map((value) => JSON.stringify({ clientId: 'c-fuzz', ops: value })),
        ),
        async (body) => {
          const answer = await call(fixture.server.url, '/v1/sync', { method: 'POST', auth: dev(603), body });
          assert.ok(answer.status >= 400 && answer.status < 500, `${answer.status} for ${body}`);
          assert.equal(typeof answer.json.error.code, 'string');
        },
      ),
      { numRuns: 120, seed: 603 },
    );
    assert.deepEqual(await tableCounts(fixture.database.db), before);
  });

  test('a client that disconnects mid-body writes nothing and leaves the server answering', async () => {
    const before = await tableCounts(fixture.database.db);
    const { port } = new URL(fixture.server.url);
    await new Promise((resolve, reject) => {
      const socket = net.connect(Number(port), '127.0.0.1', () => {
        socket.write(
          'POST /v1/sync HTTP/1.1\r\nHost: x\r\nAuthorization: dev 607\r\nContent-Type: application/json\r\n' +
            'Content-Length: 1000\r\n\r\n{"clientId":"c-cut","ops":[',
          () => socket.destroy(),
        );
      });
      socket.on('close', resolve);
      socket.on('error', reject);
    });
    const logged = await fixture.server.log.waitFor((line) => line.msg === 'the request body was cut off');
    assert.equal(logged.userId, 607);
    assert.equal(logged.code, 'REQUEST_INVALID');
    const health = await call(fixture.server.url, '/healthz');
    assert.equal(health.status, 200);
    assert.deepEqual(await tableCounts(fixture.database.db), before);
  });

  test('wrong method and unknown route', async () => {
    assert.equal((await call(fixture.server.url, '/v1/sync', { auth: dev(604) })).json.error.code, 'METHOD_NOT_ALLOWED');
    const missing = await call(fixture.server.url, '/v2/anything');
    assert.equal(missing.status, 404);
    assert.equal(missing.json.error.code, 'NOT_FOUND');
  });
});

describe('plumbing', () => {
  test('development identity is announced loudly at start', () => {
    const warning = fixture.server.log.lines.find((line) => line.devIdentity === true);
    assert.equal(warning.level, 40);
    assert.match(warning.msg, /DEV_IDENTITY IS ON.*never in production/);
  });

  test('CORS preflight and headers for browser clients', async () => {
    const preflight = await fetch(`${fixture.server.url}/v1/sync`, {
      method: 'OPTIONS',
      headers: { Origin: 'https://app.example', 'Access-Control-Request-Headers': 'authorization,content-type' },
    });
    assert.equal(preflight.status, 204);
    assert.equal(preflight.headers.get('access-control-allow-origin'), '*');
    assert.match(preflight.headers.get('access-control-allow-headers'), /Authorization/);
    const health = await call(fixture.server.url, '/healthz');
    assert.equal(health.status, 200);
    assert.equal(health.json.ok, true);
    assert.equal(health.headers.get('access-control-allow-origin'), '*');
    // Answers go out whole, head and body in one write, not chunked.
    assert.equal(Number(health.headers.get('content-length')), Buffer.byteLength(health.text));
    assert.equal(health.headers.get('transfer-encoding'), null);
    const page = await call(fixture.server.url, '/');
    assert.equal(page.headers.get('access-control-allow-origin'), '*');
  });

  test('metrics are Prometheus text and count refusals by code', async () => {
    await call(fixture.server.url, '/v1/sync', { method: 'POST', auth: dev(605), body: '[' });
    const metrics = await call(fixture.server.url, '/metrics');
    assert.equal(metrics.status, 200);
    assert.match(metrics.headers.get('content-type'), /text\/plain/);
    assert.match(metrics.text, /earnings_rejections_total\{code="REQUEST_INVALID"\} [1-9]/);
    assert.match(metrics.text, /earnings_auth_failures_total\{code="AUTH_INVALID"\} [1-9]/);
    assert.match(metrics.text, /earnings_sync_duration_seconds_bucket/);
  });

  test('static files: mounts, index.html, wasm type, and nothing outside a mount', async () => {
    const index = await call(fixture.server.url, '/');
    assert.equal(index.status, 200);
    assert.equal(index.text, '<h1>demo</h1>');
    assert.match(index.headers.get('content-type'), /^text\/html/);
    const wasm = await fetch(`${fixture.server.url}/dist/earnings-core.wasm`);
    assert.equal(wasm.headers.get('content-type'), 'application/wasm');
    for (const escape of ['/../secret.txt', '/%2e%2e/secret.txt', '/dist/..%2fsecret.txt', '/%00', '/%E0%A4%A']) {
      const answer = await call(fixture.server.url, escape);
      assert.equal(answer.status, 404, escape);
      assert.ok(!answer.text.includes('not served'));
    }
  });

  test('admin endpoints need the admin token; a user identity is not enough', async () => {
    assert.equal((await call(fixture.server.url, '/v1/admin/reviews')).status, 403);
    assert.equal((await call(fixture.server.url, '/v1/admin/reviews', { auth: dev(606) })).status, 403);
    assert.equal((await call(fixture.server.url, '/v1/admin/reviews/1/approve', { method: 'POST', auth: 'Bearer wrong-token-000000000' })).status, 403);
    const list = await call(fixture.server.url, '/v1/admin/reviews', { auth: `Bearer ${ADMIN_TOKEN}` });
    assert.equal(list.status, 200);
    assert.ok(Array.isArray(list.json.reviews));
    const bad = await call(fixture.server.url, '/v1/admin/reviews?status=everything', { auth: `Bearer ${ADMIN_TOKEN}` });
    assert.equal(bad.json.error.code, 'REQUEST_INVALID');
    const unknown = await call(fixture.server.url, '/v1/admin/reviews/999999/approve', {
      method: 'POST',
      auth: `Bearer ${ADMIN_TOKEN}`,
      body: { note: 'checked' },
    });
    assert.equal(unknown.status, 404);
    const extra = await call(fixture.server.url, '/v1/admin/reviews/1/reject', {
      method: 'POST',
      auth: `Bearer ${ADMIN_TOKEN}`,
      body: { note: 'x', amount: '5' },
    });
    assert.equal(extra.json.error.code, 'REQUEST_INVALID');
  });
});
