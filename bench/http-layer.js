// What the HTTP layer itself costs per sync request: the server's own (server/app.js's
// createHttpLayer: Fastify with its plugins and our hooks, as shipped) against a bare node:http
// handler doing the least a sync route must (the server's authenticator, the body read and
// parsed, a sync answer of the real size and headers), both with the sync service replaced by a
// fixed answer, so PostgreSQL and the core drop out and only the HTTP layer's CPU per request is
// left: the bare handler is the floor, the difference what routing, CORS, the rate limit, load
// shedding, draining and the error handling cost. Same load generator as bench/server.js: 8
// keep-alive sockets writing whole requests. Prints a table; asserts nothing.
//
//   node bench/http-layer.js            BENCH_SECONDS=5 (per timed phase), BENCH_ROUNDS=3
import { fork } from 'node:child_process';
import fs from 'node:fs';
import http from 'node:http';
import net from 'node:net';
import os from 'node:os';
import { fileURLToPath } from 'node:url';

import pino from 'pino';

import { createHttpLayer } from '../server/app.js';
import { createAuthenticator } from '../server/auth.js';
import { resolveConfig } from '../server/config.js';
import { createMetrics } from '../server/metrics.js';

const SECONDS = Number(process.env.BENCH_SECONDS ?? 5);
const ROUNDS = Number(process.env.BENCH_ROUNDS ?? 3);
const CONNECTIONS = 8;
const ANSWER = {
  results: [{ id: 'bench-1:5', seq: 5, status: 'applied', credited: '0.00000001', review: '0.00000000' }],
  state: {
    userId: 1,
    totalEarned: '0.00000005',
    currentEarnings: '0.00000005',
    baseEarningRate: '1000.00000000',
    pendingReview: '0.00000000',
    lastSeq: 5,
    lastUpdate: 1767225600000,
    startDate: 1767225600000,
    isActive: true,
    syncStatus: 'synced',
  },
  serverTime: 1767225600000,
};
const HEADERS = {
  'Access-Control-Allow-Origin': '*',
  'Access-Control-Allow-Headers': 'Authorization, Content-Type',
  'Access-Control-Allow-Methods': 'GET, POST, OPTIONS',
  'Access-Control-Max-Age': '600',
  'Cache-Control': 'no-store',
};

async function serve(kind) {
  const sync = async (userId, body) => ({ ...ANSWER, state: { ...ANSWER.state, userId, lastSeq: body.ops.length } });
  if (kind === 'bare node:http') {
    const authenticate = createAuthenticator({ botToken: null, maxAgeS: 86400, devIdentity: true, now: Date.now });
    const strictUtf8 = new TextDecoder('utf-8', { fatal: true });
    const server = http.createServer((req, res) => {
      const url = new URL(`http://server.invalid${req.url}`);
      if (url.pathname !== '/v1/sync' || req.method !== 'POST') {
        res.writeHead(404);
        res.end();
        return;
      }
      const chunks = [];
      req.on('data', (chunk) => chunks.push(chunk));
      req.on('end', async () => {
        const userId = authenticate(req.headers.authorization);
        const text = JSON.stringify(await sync(userId, JSON.parse(strictUtf8.decode(Buffer.concat(chunks)))));
        res.writeHead(200, { ...HEADERS, 'Content-Type': 'application/json', 'Content-Length': Buffer.byteLength(text) });
        res.end(text);
      });
    });
    server.keepAliveTimeout = 65_000;
    await new Promise((resolve) => server.listen(0, '127.0.0.1', resolve));
    return server.address().port;
  }
  // The server's own HTTP layer, every hook and plugin on with their defaults, the per-user rate
  // limit counting every request (at a rate no bench user reaches, so nothing is refused).
  const config = resolveConfig({ devIdentity: true, userRequestsPerS: 100_000, userRequestBurst: 100_000 });
  const db = { kind: 'bench', query: async () => [] };
  const layer = await createHttpLayer({ config, logger: pino({ level: 'warn' }), db, service: { sync }, metrics: createMetrics() });
  await layer.listen(0, '127.0.0.1');
  return Number(new URL(layer.url).port);
}

const cpuSeconds = (pid) => {
  const fields = fs.readFileSync(`/proc/${pid}/stat`, 'utf8').split(') ')[1].split(' ');
  return (Number(fields[11]) + Number(fields[12])) / 100;
};

// CONNECTIONS closed-loop clients for `seconds`; resolves with the requests answered.
async function load(port, seconds) {
  let answered = 0;
  const deadline = performance.now() + seconds * 1000;
  await Promise.all(
    Array.from({ length: CONNECTIONS }, async (_, client) => {
      const socket = net.connect(port, '127.0.0.1');
      socket.setNoDelay(true);
      let received = Buffer.alloc(0);
      let done = null;
      socket.on('data', (chunk) => {
        received = Buffer.concat([received, chunk]);
        const headEnd = received.indexOf('\r\n\r\n');
        if (headEnd < 0) return;
        const length = Number(/content-length: *(\d+)/i.exec(received.subarray(0, headEnd).toString('latin1'))[1]);
        if (received.length < headEnd + 4 + length) return;
        received = received.subarray(headEnd + 4 + length);
        done();
      });
      for (let seq = 1; performance.now() < deadline; seq += 1) {
        const text = JSON.stringify({
          clientId: `bench-${client}`,
          ops: [{ id: `bench-${client}:${seq}`, seq, type: 'accrual', amount: '0.00000001', from: 1, to: 2, rate: '1000' }],
        });
        await new Promise((resolve) => {
          done = resolve;
          socket.write(
            `POST /v1/sync HTTP/1.1\r\nHost: bench\r\nAuthorization: dev ${client + 1}\r\n` +
              `Content-Type: application/json\r\nContent-Length: ${Buffer.byteLength(text)}\r\n\r\n${text}`,
          );
        });
        answered += 1;
      }
      socket.destroy();
    }),
  );
  return answered;
}

async function main() {
  const kinds = ['bare node:http', 'server (Fastify)'];
  const load1 = () => os.loadavg()[0].toFixed(1);
  console.log(`HTTP layer alone, ${CONNECTIONS} connections, ${SECONDS} s phases, node ${process.version}, load average ${load1()}`);
  const rows = [];
  for (let round = 1; round <= ROUNDS; round += 1) {
    for (const kind of kinds) {
      const child = fork(fileURLToPath(import.meta.url), ['serve', kind]);
      const port = await new Promise((resolve) => child.once('message', resolve));
      await load(port, 2);
      const cpuBefore = cpuSeconds(child.pid);
      const started = performance.now();
      const answered = await load(port, SECONDS);
      const seconds = (performance.now() - started) / 1000;
      const cpu = cpuSeconds(child.pid) - cpuBefore;
      child.kill();
      rows.push([round, kind, (answered / seconds).toFixed(0), ((cpu / answered) * 1e6).toFixed(1), load1()]);
    }
  }
  const header = ['round', 'http layer', 'requests/s', 'server CPU us/request', 'load'];
  const widths = header.map((h, i) => Math.max(h.length, ...rows.map((r) => String(r[i]).length)));
  const line = (row) => `| ${row.map((cell, i) => String(cell).padStart(widths[i])).join(' | ')} |`;
  console.log(`\n${line(header)}\n|${widths.map((w) => '-'.repeat(w + 2)).join('|')}|`);
  for (const row of rows) console.log(line(row));
}

if (process.argv[2] === 'serve') {
  serve(process.argv[3]).then((port) => process.send(port));
} else {
  main().catch((error) => {
    console.error(error);
    process.exit(1);
  });
}
