// The sync server as a value: createServer(options) opens the database, applies migrations,
// loads the core and returns { handler, listen, close, ... } so tests and the demo run it in
// process and the CLI (main.js) runs it from the environment. Options are config.js keys plus
// injected collaborators: now (server clock, ms), logger (pino), db (already open; then the
// caller closes it), core (a loaded core).
import http from 'node:http';

import pino from 'pino';

import { loadServerCore } from './core.js';
import { createAdminCheck, createAuthenticator } from './auth.js';
import { resolveConfig } from './config.js';
import { openDatabase } from './db.js';
import { listReviews } from './earnings-store.js';
import { ServerError, requestInvalid } from './errors.js';
import { createMetrics } from './metrics.js';
import { migrate, migrationLog } from './migrate.js';
import { createStaticFiles } from './static-files.js';
import { createSyncService } from './sync-service.js';
import { createUserRateLimit } from './user-rate-limit.js';

// A review item is addressed by its user and id (`/v1/admin/users/:userId/reviews/:id/...`), so
// the decision goes to that user's shard; the old address by id alone still works.
const REVIEW_ACTION = /^\/v1\/admin\/(?:users\/([1-9]\d{0,15})\/)?reviews\/([1-9]\d{0,17})\/(approve|reject)$/;
const REVIEW_STATUSES = new Set(['pending', 'approved', 'rejected']);
const MAX_NOTE_CHARS = 1000;
const USER_RATE = /^\/v1\/admin\/users\/([1-9]\d{0,15})\/rate$/;

// What a draining process tells clients: by then another process (or this one restarted) answers.
const DRAIN_RETRY_AFTER_S = 5;

const unavailable = (message) => new ServerError('UNAVAILABLE', message, 503, { retryAfterS: 1 });

// PostgreSQL SQLSTATEs a request can cause; anything else is a server fault.
const SQL_STATE_ANSWERS = {
  22003: () => new ServerError('AMOUNT_OVERFLOW', 'the result would exceed the largest amount', 422),
  23514: () => new ServerError('STATE_INVALID', 'the change would break a stored invariant', 422),
  40001: () => unavailable('the database asked to retry the transaction'),
  '40P01': () => unavailable('the database asked to retry the transaction'),
  '57P01': () => unavailable('the database is restarting'),
  // The database is down or restarting (a crash, an immediate shutdown, a failover): nothing of the
  // request can have committed after this, and it will answer again shortly.
  '57P02': () => unavailable('the database is restarting'),
  '57P03': () => unavailable('the database is starting up'),
  '08000': () => unavailable('the database connection failed'),
  '08001': () => unavailable('the database cannot be reached'),
  '08003': () => unavailable('the database connection failed'),
  '08006': () => unavailable('the database connection failed'),
  53300: () => unavailable('the database has no free connection'),
  ECONNREFUSED: () => unavailable('the database cannot be reached'),
  ECONNRESET: () => unavailable('the database connection failed'),
  57014: () => unavailable('the database took too long; retry'),
  // Text PostgreSQL cannot store (a NUL, a lone surrogate in JSON): the request's bytes, so the
  // request's fault. The fields that reach the database are checked before; this is the backstop.
  22021: () => requestInvalid('the request holds text the database cannot store (e.g. a NUL character)'),
  '22P05': () => requestInvalid('the request holds text the database cannot store (e.g. a NUL character)'),
};

// The answer an error maps to, or null for a fault of ours (answered as INTERNAL).
function knownAnswer(error) {
  if (error instanceof ServerError || (typeof error?.status === 'number' && typeof error?.code === 'string')) {
    return error;
  }
  return SQL_STATE_ANSWERS[error?.code]?.() ?? null;
}

function readBody(req, maxBytes) {
  return new Promise((resolve, reject) => {
    const declared = Number(req.headers['content-length']);
    if (Number.isFinite(declared) && declared > maxBytes) {
      reject(new ServerError('PAYLOAD_TOO_LARGE', `request body over ${maxBytes} bytes`, 413));
      return;
    }
    const chunks = [];
    let size = 0;
    let done = false;
    req.on('data', (chunk) => {
      if (done) return;
      size += chunk.length;
      if (size > maxBytes) {
        done = true;
        reject(new ServerError('PAYLOAD_TOO_LARGE', `request body over ${maxBytes} bytes`, 413));
        return;
      }
      chunks.push(chunk);
    });
    req.on('end', () => {
      if (done) return;
      done = true;
      resolve(Buffer.concat(chunks));
    });
    // A client that disconnects mid-body ('error' ECONNRESET or a bare 'close'): its fault, not
    // the server's; nothing was read and nothing will be written.
    const cutOff = () => {
      if (done) return;
      done = true;
      reject(requestInvalid('the request body was cut off'));
    };
    req.on('error', cutOff);
    req.on('close', () => {
      if (!req.complete) cutOff();
    });
  });
}

const strictUtf8 = new TextDecoder('utf-8', { fatal: true });

function parseJsonObject(buffer, { allowEmpty = false } = {}) {
  if (buffer.length === 0 && allowEmpty) return {};
  let text;
  try {
    text = strictUtf8.decode(buffer);
  } catch {
    throw requestInvalid('request body is not UTF-8');
  }
  let value;
  try {
    value = JSON.parse(text);
  } catch (error) {
    throw requestInvalid(`request body is not JSON: ${error.message}`);
  }
  if (value === null || typeof value !== 'object' || Array.isArray(value)) {
    throw requestInvalid('request body must be a JSON object');
  }
  return value;
}

// The note of an admin request's body (optional), once the body holds nothing but it and
// `otherFields`.
function adminNote(body, otherFields = []) {
  const unknown = Object.keys(body).filter((key) => key !== 'note' && !otherFields.includes(key));
  if (unknown.length > 0) throw requestInvalid(`unknown field ${JSON.stringify(unknown[0])}`);
  if (body.note === undefined) return null;
  if (typeof body.note !== 'string' || body.note.length > MAX_NOTE_CHARS) {
    throw requestInvalid(`note must be a string of at most ${MAX_NOTE_CHARS} characters`);
  }
  // PostgreSQL text cannot hold NUL.
  if (body.note.includes('\0')) throw requestInvalid('note must not contain a NUL character');
  return body.note;
}

// The request target as a URL, or null when it is none: `new URL` throws on targets such as `//[`
// or `http://a:b@c:99999/`, and the handler must answer those, not die of them. An origin-form
// target (the usual `/path?query`) is read as a path even when it starts with `//`.
function parseTarget(target) {
  try {
    return new URL(target.startsWith('/') ? `http://server.invalid${target}` : target);
  } catch {
    return null;
  }
}

function intParam(params, key, fallback, max) {
  const text = params.get(key);
  if (text === null) return fallback;
  if (!/^\d{1,15}$/.test(text) || Number(text) > max) throw requestInvalid(`${key} must be an integer up to ${max}`);
  return Number(text);
}

export async function createServer(options = {}) {
  const { logger: givenLogger, db: givenDb, core: givenCore, ...settings } = options;
  const config = resolveConfig(settings);
  const logger = givenLogger ?? pino({ name: 'earnings-server' });
  if (config.devIdentity) {
    logger.warn(
      { devIdentity: true },
      'DEV_IDENTITY IS ON: any caller can act as any user with "Authorization: dev <userId>". ' +
        'For the demo and tests only; never in production.',
    );
  }
  const db = givenDb ?? (await openDatabase(config));
  let core;
  try {
    const applied = await migrate(db, migrationLog(logger));
    if (applied.length > 0) logger.info({ migrations: applied }, 'applied database migrations');
    core = givenCore ?? (await loadServerCore());
  } catch (error) {
    if (!givenDb) await db.close();
    throw error;
  }
  const metrics = createMetrics();
  const service = createSyncService({ db, core, config, metrics });
  const authenticate = createAuthenticator({
    botToken: config.botToken,
    maxAgeS: config.initDataMaxAgeS,
    devIdentity: config.devIdentity,
    now: config.now,
  });
  const checkAdmin = createAdminCheck(config.adminToken);
  const corsHeaders = {
    'Access-Control-Allow-Origin': config.corsOrigin,
    'Access-Control-Allow-Headers': 'Authorization, Content-Type',
    'Access-Control-Allow-Methods': 'GET, POST, OPTIONS',
    'Access-Control-Max-Age': '600',
  };
  const staticFiles = createStaticFiles(config.staticDirs, corsHeaders);
  const rateLimit = createUserRateLimit({ perSecond: config.userRequestsPerS, burst: config.userRequestBurst, now: config.now });
  // Draining (SIGTERM): requests that arrived before it finish; every later one is answered 503.
  let draining = false;
  let inFlight = 0;
  let onIdle = null;

  // Every answer is sent whole with its Content-Length, so head and body leave in one write
  // (a chunked answer takes a writev of four pieces and a terminating chunk).
  function send(res, status, body, headers = {}) {
    const text = typeof body === 'string' ? body : JSON.stringify(body);
    res.writeHead(status, {
      ...corsHeaders,
      'Content-Type': typeof body === 'string' ? 'text/plain; charset=utf-8' : 'application/json',
      'Content-Length': Buffer.byteLength(text),
      'Cache-Control': 'no-store',
      ...headers,
    });
    res.end(text);
  }

  // The request's user, once authenticated and within its request rate.
  function userOf(req) {
    let userId;
    try {
      userId = authenticate(req.headers.authorization);
    } catch (error) {
      metrics.authFailures.inc({ code: error.code ?? 'AUTH_INVALID' });
      throw error;
    }
    const waitMs = rateLimit.take(userId);
    if (waitMs > 0) {
      const retryAfterS = Math.ceil(waitMs / 1000);
      throw new ServerError('RATE_LIMITED', `more than ${config.userRequestsPerS} requests per second; retry in ${retryAfterS} s`, 429, {
        retryAfterS,
      });
    }
    return userId;
  }

  async function handleSync(req, res, context) {
    const started = process.hrtime.bigint();
    let outcome = 'server_error';
    try {
      context.userId = userOf(req);
      const body = parseJsonObject(await readBody(req, config.maxBodyBytes));
      context.clientId = typeof body.clientId === 'string' ? body.clientId.slice(0, 64) : undefined;
      const answer = await service.sync(context.userId, body);
      outcome = 'ok';
      for (const result of answer.results) {
        const partlyQueued = result.status === 'applied' && result.review !== '0.00000000';
        if (partlyQueued || result.status === 'rejected' || result.status === 'review' || result.status === 'gap') {
          const { totalEarned, pendingReview, lastSeq, baseEarningRate } = answer.state;
          logger.warn(
            {
              userId: context.userId,
              clientId: context.clientId,
              op: result,
              state: { totalEarned, pendingReview, lastSeq, baseEarningRate },
              serverTime: answer.serverTime,
            },
            partlyQueued ? 'op applied in part, the rest queued for review' : `op ${result.status}`,
          );
        }
      }
      send(res, 200, answer);
    } catch (error) {
      outcome = (knownAnswer(error)?.status ?? 500) < 500 ? 'client_error' : 'server_error';
      throw error;
    } finally {
      const seconds = Number(process.hrtime.bigint() - started) / 1e9;
      metrics.syncDuration.observe({ outcome }, seconds);
      metrics.syncRequests.inc({ outcome });
    }
  }

  async function route(req, res, url, context) {
    const { pathname } = url;
    const method = req.method;
    if (pathname === '/v1/sync') {
      if (method !== 'POST') throw new ServerError('METHOD_NOT_ALLOWED', 'use POST', 405);
      context.operation = 'sync';
      return handleSync(req, res, context);
    }
    if (pathname === '/v1/state') {
      if (method !== 'GET') throw new ServerError('METHOD_NOT_ALLOWED', 'use GET', 405);
      context.operation = 'state';
      context.userId = userOf(req);
      context.clientId = url.searchParams.get('clientId') ?? undefined;
      return send(res, 200, await service.state(context.userId, context.clientId));
    }
    if (pathname === '/healthz') {
      if (draining) return send(res, 503, { ok: false, draining: true, database: db.kind }, drainHeaders);
      await db.query('SELECT 1');
      return send(res, 200, { ok: true, database: db.kind });
    }
    if (pathname === '/metrics') {
      return send(res, 200, await metrics.registry.metrics(), { 'Content-Type': metrics.registry.contentType });
    }
    if (pathname === '/v1/admin/reviews') {
      if (method !== 'GET') throw new ServerError('METHOD_NOT_ALLOWED', 'use GET', 405);
      checkAdmin(req.headers.authorization);
      const status = url.searchParams.get('status') ?? 'pending';
      if (!REVIEW_STATUSES.has(status)) throw requestInvalid('status must be pending, approved or rejected');
      const limit = intParam(url.searchParams, 'limit', 100, 1000);
      const afterId = intParam(url.searchParams, 'after', 0, Number.MAX_SAFE_INTEGER);
      const userId = intParam(url.searchParams, 'userId', null, Number.MAX_SAFE_INTEGER);
      return send(res, 200, { reviews: await listReviews(db, { status, limit, afterId, userId }) });
    }
    const action = REVIEW_ACTION.exec(pathname);
    if (action) {
      if (method !== 'POST') throw new ServerError('METHOD_NOT_ALLOWED', 'use POST', 405);
      context.operation = 'review_decision';
      checkAdmin(req.headers.authorization);
      const note = adminNote(parseJsonObject(await readBody(req, config.maxBodyBytes), { allowEmpty: true }));
      const [, userId, id, verb] = action;
      const owner = userId === undefined ? null : Number(userId);
      if (owner !== null && !Number.isSafeInteger(owner)) throw requestInvalid('userId is out of range');
      const decision = await service.decideReview({ userId: owner, id: Number(id) }, { approve: verb === 'approve', note });
      logger.info({ review: decision }, `review ${decision.status}`);
      return send(res, 200, { review: decision });
    }
    const userRate = USER_RATE.exec(pathname);
    if (userRate) {
      if (method !== 'PUT') throw new ServerError('METHOD_NOT_ALLOWED', 'use PUT', 405);
      checkAdmin(req.headers.authorization);
      const body = parseJsonObject(await readBody(req, config.maxBodyBytes));
      const note = adminNote(body, ['rate']);
      context.userId = Number(userRate[1]);
      const answer = await service.setUserRate(context.userId, body.rate, { note });
      logger.info({ userId: context.userId, rate: answer.state.baseEarningRate, note }, 'rate changed');
      return send(res, 200, answer);
    }
    if ((method === 'GET' || method === 'HEAD') && (await staticFiles.serve(req, res, pathname))) return undefined;
    throw new ServerError('NOT_FOUND', `no route for ${method} ${pathname}`, 404);
  }

  function answerError(res, error, context) {
    const answer = knownAnswer(error) ?? new ServerError('INTERNAL', 'internal error; the request was applied whole or not at all: resend it unchanged', 500);
    const entry = { ...context, code: answer.code, status: answer.status };
    if (answer.status >= 500) logger.error({ ...entry, err: error }, 'request failed');
    else logger.warn(entry, answer.message);
    if (answer.status >= 400 && answer.status < 500 && answer.code !== 'NOT_FOUND') {
      metrics.rejections.inc({ code: answer.code });
    }
    if (res.headersSent) {
      res.destroy();
      return;
    }
    // After a refused oversized body the rest of it is not read; closing is cheaper than draining.
    const headers = answer.status === 413 ? { Connection: 'close' } : {};
    if (answer.retryAfterS) headers['Retry-After'] = String(answer.retryAfterS);
    send(res, answer.status, { error: { code: answer.code, message: answer.message } }, headers);
  }

  const drainHeaders = { Connection: 'close', 'Retry-After': String(DRAIN_RETRY_AFTER_S) };

  const handler = (req, res) => {
    if (draining) {
      if (parseTarget(req.url ?? '/')?.pathname === '/healthz') {
        send(res, 503, { ok: false, draining: true, database: db.kind }, drainHeaders);
      } else {
        const error = { code: 'DRAINING', message: 'this server is shutting down; retry shortly' };
        send(res, 503, { error }, drainHeaders);
      }
      return;
    }
    inFlight += 1;
    res.once('close', () => {
      inFlight -= 1;
      if (inFlight === 0) onIdle?.();
    });
    if (req.method === 'OPTIONS') {
      res.writeHead(204, corsHeaders);
      res.end();
      return;
    }
    const url = parseTarget(req.url ?? '/');
    const context = { method: req.method, path: url?.pathname };
    if (!url) {
      answerError(res, requestInvalid('the request target is not a valid URL'), context);
      return;
    }
    route(req, res, url, context).catch((error) => answerError(res, error, context));
  };

  const server = http.createServer(
    {
      headersTimeout: config.headersTimeoutMs,
      requestTimeout: config.requestTimeoutMs,
      // How often Node looks for connections past those timeouts (its default is 30 s).
      connectionsCheckingInterval: Math.min(1000, config.headersTimeoutMs),
    },
    handler,
  );
  server.keepAliveTimeout = 65_000;
  server.maxConnections = config.maxConnections;

  async function closeServer() {
    if (server.listening) {
      server.closeIdleConnections();
      await new Promise((resolve) => server.close(resolve));
    }
    if (!givenDb) await db.close();
  }

  return {
    config,
    db,
    core,
    logger,
    metrics,
    handler,
    server,
    url: null,
    // The app's backend setting a user's rate in process; the same as PUT /v1/admin/users/:userId/rate.
    setUserRate: (userId, rate, options) => service.setUserRate(userId, rate, options),
    async listen(port = config.port, host = config.host) {
      await new Promise((resolve, reject) => {
        server.once('error', reject);
        server.listen(port, host, () => {
          server.off('error', reject);
          resolve();
        });
      });
      const address = server.address();
      this.url = `http://${address.address}:${address.port}`;
      logger.info({ url: this.url, database: db.kind }, 'earnings server listening');
      return this.url;
    },
    async close() {
      await closeServer();
    },
    get draining() {
      return draining;
    },
    // Graceful stop (SIGTERM): from now on every new request, on a new connection or a kept-alive
    // one, is answered 503 DRAINING with Retry-After (/healthz: 503 { draining: true }); requests
    // already in flight finish; then the server and the database close. Resolves { finished } once
    // closed: false when drainTimeoutMs passed first and the remaining connections were cut (their
    // transactions roll back or commit whole; the clients resend either way).
    async drain() {
      if (draining) return { finished: false };
      draining = true;
      logger.info({ inFlight, deadlineMs: config.drainTimeoutMs }, 'draining: refusing new requests, finishing the others');
      server.closeIdleConnections();
      let timer;
      const finished = await new Promise((resolve) => {
        if (inFlight === 0) resolve(true);
        onIdle = () => resolve(true);
        timer = setTimeout(() => resolve(false), config.drainTimeoutMs);
      });
      clearTimeout(timer);
      if (!finished) logger.warn({ inFlight }, 'drain deadline passed: closing the remaining connections');
      // Nothing left is mid-request of ours: what remains is idle or sending a request that would
      // only be refused, so no connection is waited for.
      const closed = closeServer();
      server.closeAllConnections();
      await closed;
      logger.info({ finished }, 'drained');
      return { finished };
    },
  };
}

export async function startServer(options = {}) {
  const app = await createServer(options);
  await app.listen();
  return app;
}
