// The sync server as a value: createServer(options) opens the database, applies migrations,
// loads the core and returns { handler, listen, close, ... } so tests and the demo run it in
// process and the CLI (main.js) runs it from the environment. Options are config.js keys plus
// injected collaborators: now (server clock, ms), logger (pino), db (already open; then the
// caller closes it), core (a loaded core).
//
// The HTTP layer is Fastify (docs/DESIGN.md "Server HTTP layer"): routing, body limits, the
// connection and timeout limits of node:http, CORS (@fastify/cors), static files
// (@fastify/static), requests per user (@fastify/rate-limit on our clock's store) and load
// shedding (@fastify/under-pressure). What is ours: every refusal answered in the protocol's
// error shape and codes (answerError), and draining.
import fs from 'node:fs';
import path from 'node:path';

import cors from '@fastify/cors';
import rateLimit from '@fastify/rate-limit';
import staticFiles from '@fastify/static';
import underPressure from '@fastify/under-pressure';
import Fastify, { LogController } from 'fastify';
import pino from 'pino';

import { loadServerCore } from './core.js';
import { createAdminCheck, createAuthenticator } from './auth.js';
import { resolveConfig } from './config.js';
import { openDatabase } from './db.js';
import { listReviews } from './earnings-store.js';
import { ServerError, requestInvalid } from './errors.js';
import { createMetrics } from './metrics.js';
import { migrate, migrationLog } from './migrate.js';
import { createSyncService } from './sync-service.js';
import { userRequestStore } from './user-rate-limit.js';

// A review item is addressed by its user and id (`/v1/admin/users/:userId/reviews/:id/...`), so
// the decision goes to that user's shard; the old address by id alone still works.
const USER_ID_PARAM = ':userId(^[1-9]\\d{0,15}$)';
const REVIEW_ID_PARAM = ':id(^[1-9]\\d{0,17}$)';
const REVIEW_STATUSES = new Set(['pending', 'approved', 'rejected']);
const MAX_NOTE_CHARS = 1000;

// What a draining process tells clients: by then another process (or this one restarted) answers.
const DRAIN_RETRY_AFTER_S = 5;
// What an overloaded process tells clients (load shedding, maxEventLoopDelayMs).
const OVERLOAD_RETRY_AFTER_S = 2;
// The methods a route can be asked with; those it does not take answer 405 METHOD_NOT_ALLOWED.
const METHODS = ['GET', 'HEAD', 'POST', 'PUT', 'DELETE', 'PATCH'];
const EMPTY_BODY = Buffer.alloc(0);

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

// Fastify's own refusals (and its plugins'), as the protocol's codes. A 4xx of the framework
// that is not listed here is a request we do not take: REQUEST_INVALID with the framework's text.
const FRAMEWORK_ANSWERS = {
  FST_ERR_CTP_BODY_TOO_LARGE: (config) => new ServerError('PAYLOAD_TOO_LARGE', `request body over ${config.maxBodyBytes} bytes`, 413),
  FST_ERR_CTP_INVALID_CONTENT_LENGTH: () => requestInvalid('the request body is not as long as its Content-Length says'),
  // A target the router cannot decode (`/%E0%A4%A`) or a path parameter too long to be one of
  // ours: no route has it.
  FST_ERR_BAD_URL: (config, request) => notFound(request),
  FST_ERR_MAX_PARAM_LENGTH: (config, request) => notFound(request),
};

const notFound = (request) => new ServerError('NOT_FOUND', `no route for ${request.method} ${pathOf(request.url)}`, 404);

const pathOf = (url) => {
  const query = url.indexOf('?');
  return query < 0 ? url : url.slice(0, query);
};

// The answer an error maps to, or null for a fault of ours (answered as INTERNAL).
function knownAnswer(error, request, config) {
  if (error instanceof ServerError) return error;
  // A client that disconnected mid-body: its fault, not the server's; nothing was read and nothing
  // will be written.
  if (error?.code === 'ECONNRESET' && !request.raw.complete) return requestInvalid('the request body was cut off');
  const framework = FRAMEWORK_ANSWERS[error?.code];
  if (framework) return framework(config, request);
  if (typeof error?.code === 'string' && error.code.startsWith('FST_') && error.statusCode >= 400 && error.statusCode < 500) {
    return requestInvalid(error.message);
  }
  if (typeof error?.status === 'number' && typeof error?.code === 'string') return error;
  return SQL_STATE_ANSWERS[error?.code]?.() ?? null;
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

function intParam(params, key, fallback, max) {
  const text = params.get(key);
  if (text === null) return fallback;
  if (!/^\d{1,15}$/.test(text) || Number(text) > max) throw requestInvalid(`${key} must be an integer up to ${max}`);
  return Number(text);
}

// What Node's HTTP parser refuses (a malformed request line or header, a head too large, a
// request past its timeout) never reaches a route: it gets Node's own bare answer, 400, 431 or
// 408, and the socket is closed. Fastify's default would add a body of another shape.
const CLIENT_ERROR_STATUS = { HPE_HEADER_OVERFLOW: '431 Request Header Fields Too Large', ERR_HTTP_REQUEST_TIMEOUT: '408 Request Timeout' };
function answerClientError(error, socket) {
  if (error.code !== 'ECONNRESET' && socket.writable) {
    socket.write(`HTTP/1.1 ${CLIENT_ERROR_STATUS[error.code] ?? '400 Bad Request'}\r\nConnection: close\r\n\r\n`);
  }
  socket.destroy();
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
  const server = await createHttpLayer({ config, logger, db, service, metrics, closeDatabase: givenDb ? null : () => db.close() });
  return Object.assign(server, {
    config,
    db,
    core,
    logger,
    metrics,
    // The app's backend setting a user's rate in process; the same as PUT /v1/admin/users/:userId/rate.
    setUserRate: (userId, rate, options) => service.setUserRate(userId, rate, options),
  });
}

// The HTTP layer over a sync service (`sync`, `state`, `decideReview`, `setUserRate`) and the
// database it answers /healthz and the review list from: { handler, server, url, listen, close,
// draining, drain }. createServer's; bench/http-layer.js measures it over a fixed answer.
export async function createHttpLayer({ config, logger, db, service, metrics, closeDatabase = null }) {
  const authenticate = createAuthenticator({
    botToken: config.botToken,
    maxAgeS: config.initDataMaxAgeS,
    devIdentity: config.devIdentity,
    now: config.now,
  });
  const checkAdmin = createAdminCheck(config.adminToken);
  // Draining (SIGTERM): requests that arrived before it finish; every later one is answered 503.
  let draining = false;
  let inFlight = 0;
  let onIdle = null;

  const app = Fastify({
    loggerInstance: logger,
    // One line per refusal or failure, with its context, comes from answerError; a line per
    // request would be noise at thousands of syncs a second.
    logController: new LogController({ disableRequestLogging: true }),
    bodyLimit: config.maxBodyBytes,
    keepAliveTimeout: 65_000,
    requestTimeout: config.requestTimeoutMs,
    http: {
      headersTimeout: config.headersTimeoutMs,
      // How often Node looks for connections past those timeouts (its default is 30 s).
      connectionsCheckingInterval: Math.min(1000, config.headersTimeoutMs),
    },
    // Draining answers in the protocol's shape, with Retry-After (the hook below); Fastify's own
    // 503 while closing has neither.
    return503OnClosing: false,
    clientErrorHandler: answerClientError,
    frameworkErrors: (error, request, reply) => answerError(request, reply, error),
    // What the handlers read: URLSearchParams (the first of repeated keys), as clients send them.
    routerOptions: { querystringParser: (text) => new URLSearchParams(text) },
  });
  app.server.maxConnections = config.maxConnections;
  app.decorateRequest('logContext', null);

  // Every error answer: the protocol's shape { error: { code, message } } with a stable code, a
  // Retry-After where the request can come back, and one log line carrying the request's context.
  function answerError(request, reply, error) {
    const context = request.logContext ?? { method: request.method, path: pathOf(request.url) };
    const answer =
      knownAnswer(error, request, config) ??
      new ServerError('INTERNAL', 'internal error; the request was applied whole or not at all: resend it unchanged', 500);
    const entry = { ...context, code: answer.code, status: answer.status };
    if (answer.status >= 500) logger.error({ ...entry, err: error }, 'request failed');
    else logger.warn(entry, answer.message);
    if (answer.status >= 400 && answer.status < 500 && answer.code !== 'NOT_FOUND') {
      metrics.rejections.inc({ code: answer.code });
    }
    if (reply.sent || reply.raw.headersSent) {
      reply.raw.destroy();
      return reply;
    }
    reply.code(answer.status).header('cache-control', 'no-store');
    // After a refused oversized body the rest of it is not read; closing is cheaper than draining.
    if (answer.status === 413) reply.header('connection', 'close');
    if (answer.retryAfterS) reply.header('retry-after', String(answer.retryAfterS));
    return reply.send({ error: { code: answer.code, message: answer.message } });
  }

  app.setErrorHandler((error, request, reply) => answerError(request, reply, error));
  app.setNotFoundHandler((request, reply) => answerError(request, reply, notFound(request)));

  // Bodies are read as bytes whatever their Content-Type (clients have sent JSON without one) and
  // parsed by the handlers, strictly (UTF-8, a JSON object), into the protocol's codes.
  app.removeAllContentTypeParsers();
  app.addContentTypeParser('*', { parseAs: 'buffer' }, (request, body, done) => done(null, body));

  await app.register(cors, {
    origin: config.corsOrigin,
    allowedHeaders: 'Authorization, Content-Type',
    methods: 'GET, POST, OPTIONS',
    maxAge: 600,
    // A preflight is answered whatever it names: the answer grants the same to every caller.
    strictPreflight: false,
  });

  const drainHeaders = { connection: 'close', 'retry-after': String(DRAIN_RETRY_AFTER_S), 'cache-control': 'no-store' };
  app.addHook('onRequest', (request, reply, done) => {
    if (draining) {
      reply.code(503).headers(drainHeaders);
      if (request.routeOptions.url === '/healthz') {
        reply.send({ ok: false, draining: true, database: db.kind });
      } else {
        reply.send({ error: { code: 'DRAINING', message: 'this server is shutting down; retry shortly' } });
      }
      return;
    }
    inFlight += 1;
    reply.raw.once('close', () => {
      inFlight -= 1;
      if (inFlight === 0) onIdle?.();
    });
    request.logContext = { method: request.method, path: pathOf(request.url) };
    reply.header('cache-control', 'no-store');
    done();
  });

  // Load shedding: while the event loop lags more than maxEventLoopDelayMs (its mean over a
  // second), new requests are answered 503 OVERLOADED with Retry-After instead of queueing behind
  // the ones it cannot finish in time.
  if (config.maxEventLoopDelayMs > 0) {
    await app.register(underPressure, {
      maxEventLoopDelay: config.maxEventLoopDelayMs,
      retryAfter: OVERLOAD_RETRY_AFTER_S,
      customError: class Overloaded extends ServerError {
        constructor() {
          super('OVERLOADED', 'the server is overloaded; retry shortly', 503, { retryAfterS: OVERLOAD_RETRY_AFTER_S });
        }
      },
    });
  }

  // Requests per user: checked once the user is known, before the body is read.
  const perUser = config.userRequestsPerS > 0 ? { rateLimit: { max: config.userRequestBurst, timeWindow: 1000 } } : {};
  if (config.userRequestsPerS > 0) {
    const noHeaders = { 'x-ratelimit-limit': false, 'x-ratelimit-remaining': false, 'x-ratelimit-reset': false, 'retry-after': false };
    await app.register(rateLimit, {
      global: false,
      hook: 'onRequest',
      store: userRequestStore({ perSecond: config.userRequestsPerS, burst: config.userRequestBurst, now: config.now }),
      keyGenerator: (request) => request.logContext.userId,
      // answerError adds Retry-After from the error.
      addHeaders: noHeaders,
      addHeadersOnExceeding: noHeaders,
      errorResponseBuilder: (request, { ttl }) => {
        const retryAfterS = Math.ceil(ttl / 1000);
        return new ServerError('RATE_LIMITED', `more than ${config.userRequestsPerS} requests per second; retry in ${retryAfterS} s`, 429, {
          retryAfterS,
        });
      },
    });
  }

  // Route hooks: the request's user (before its body is read), or the admin token.
  async function asUser(request) {
    try {
      request.logContext.userId = authenticate(request.headers.authorization);
    } catch (error) {
      metrics.authFailures.inc({ code: error.code ?? 'AUTH_INVALID' });
      throw error;
    }
  }
  async function asAdmin(request) {
    checkAdmin(request.headers.authorization);
  }

  // A route, and 405 METHOD_NOT_ALLOWED for the other methods on its path.
  function endpoint(method, url, routeOptions, handler) {
    app.route({ method, url, ...routeOptions, handler });
    const taken = method === 'GET' ? ['GET', 'HEAD'] : [method];
    app.route({
      method: METHODS.filter((other) => !taken.includes(other)),
      url,
      handler: async () => {
        throw new ServerError('METHOD_NOT_ALLOWED', `use ${method}`, 405);
      },
    });
  }

  endpoint('POST', '/v1/sync', {
    onRequest: asUser,
    config: perUser,
    // Counted once answered, whatever answered it (the route, a hook refusing it, the error
    // handler), by its status.
    onResponse: async (request, reply) => {
      const outcome = reply.statusCode < 400 ? 'ok' : reply.statusCode < 500 ? 'client_error' : 'server_error';
      metrics.syncDuration.observe({ outcome }, reply.elapsedTime / 1000);
      metrics.syncRequests.inc({ outcome });
    },
  }, async (request) => {
    const context = request.logContext;
    context.operation = 'sync';
    const body = parseJsonObject(request.body ?? EMPTY_BODY);
    context.clientId = typeof body.clientId === 'string' ? body.clientId.slice(0, 64) : undefined;
    const answer = await service.sync(context.userId, body);
    for (const result of answer.results) {
      const partlyQueued = result.status === 'applied' && result.review !== '0.00000000';
      // Time counted on another device of the user is honest use of two devices, not a warning.
      const refused = result.status === 'rejected' && result.code !== 'COUNTED_ON_ANOTHER_DEVICE';
      if (partlyQueued || refused || result.status === 'review' || result.status === 'gap') {
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
    return answer;
  });

  endpoint('GET', '/v1/state', { onRequest: asUser, config: perUser }, async (request) => {
    const context = request.logContext;
    context.operation = 'state';
    context.clientId = request.query.get('clientId') ?? undefined;
    return service.state(context.userId, context.clientId);
  });

  endpoint('GET', '/healthz', {}, async () => {
    await db.query('SELECT 1');
    return { ok: true, database: db.kind };
  });

  endpoint('GET', '/metrics', {}, async (request, reply) => {
    reply.header('content-type', metrics.registry.contentType);
    return metrics.registry.metrics();
  });

  endpoint('GET', '/v1/admin/reviews', { onRequest: asAdmin }, async (request) => {
    const params = request.query;
    const status = params.get('status') ?? 'pending';
    if (!REVIEW_STATUSES.has(status)) throw requestInvalid('status must be pending, approved or rejected');
    const limit = intParam(params, 'limit', 100, 1000);
    const afterId = intParam(params, 'after', 0, Number.MAX_SAFE_INTEGER);
    const userId = intParam(params, 'userId', null, Number.MAX_SAFE_INTEGER);
    return { reviews: await listReviews(db, { status, limit, afterId, userId }) };
  });

  // A review item is addressed by its user and id, so the decision goes to that user's shard; the
  // old address by id alone still works.
  for (const verb of ['approve', 'reject']) {
    for (const url of [`/v1/admin/users/${USER_ID_PARAM}/reviews/${REVIEW_ID_PARAM}/${verb}`, `/v1/admin/reviews/${REVIEW_ID_PARAM}/${verb}`]) {
      endpoint('POST', url, { onRequest: asAdmin }, async (request) => {
        request.logContext.operation = 'review_decision';
        const note = adminNote(parseJsonObject(request.body ?? EMPTY_BODY, { allowEmpty: true }));
        const { userId, id } = request.params;
        const owner = userId === undefined ? null : Number(userId);
        if (owner !== null && !Number.isSafeInteger(owner)) throw requestInvalid('userId is out of range');
        const decision = await service.decideReview({ userId: owner, id: Number(id) }, { approve: verb === 'approve', note });
        logger.info({ review: decision }, `review ${decision.status}`);
        return { review: decision };
      });
    }
  }

  endpoint('PUT', `/v1/admin/users/${USER_ID_PARAM}/rate`, { onRequest: asAdmin }, async (request) => {
    const body = parseJsonObject(request.body ?? EMPTY_BODY);
    const note = adminNote(body, ['rate']);
    const userId = Number(request.params.userId);
    request.logContext.userId = userId;
    const answer = await service.setUserRate(userId, body.rate, { note });
    logger.info({ userId, rate: answer.state.baseEarningRate, note }, 'rate changed');
    return answer;
  });

  // Static files (the demo page and dist/), each mount a @fastify/static of its own in a scope
  // whose every failure is a 404: a path outside the mount, `..` in any spelling, a NUL, a folder
  // without index.html, a file that cannot be read.
  if (config.staticDirs.length > 0) {
    await app.register(async (files) => {
      files.setErrorHandler((error, request, reply) => answerError(request, reply, notFound(request)));
      for (const { prefix, dir } of config.staticDirs) {
        await files.register(staticFiles, {
          root: path.resolve(dir),
          prefix,
          decorateReply: false,
          index: 'index.html',
          cacheControl: false,
          setHeaders: (reply) => reply.header('cache-control', 'no-cache'),
          // Only a regular file that opens is served, so nothing half-answered is left to fail: a
          // FIFO would block a libuv thread, and a file open() refuses (EACCES) would fail after
          // the head was sent.
          onFile: async (file, stat) => {
            if (!stat.isFile()) throw new ServerError('NOT_FOUND', 'not a file', 404);
            await (await fs.promises.open(file, fs.constants.O_RDONLY | fs.constants.O_NONBLOCK)).close();
          },
        });
      }
    });
  }

  await app.ready();
  const server = app.server;

  let closing = null;
  function closeServer() {
    closing ??= (async () => {
      await app.close();
      await closeDatabase?.();
    })();
    return closing;
  }

  return {
    // Fastify's request handler, to mount in a node:http server of your own.
    handler: (req, res) => app.routing(req, res),
    server,
    url: null,
    async listen(port = config.port, host = config.host) {
      await app.listen({ port, host });
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
