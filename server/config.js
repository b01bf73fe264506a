// Server configuration: defaults, the environment mapping used by the CLI, and validation. A
// value out of range stops the server at start (CONFIG_INVALID) rather than running with a
// surprising budget.
import { ServerError } from './errors.js';

const HOUR_MS = 3_600_000;

export const DEFAULTS = Object.freeze({
  port: 8787,
  host: '127.0.0.1',
  databaseUrl: null,
  dataDir: '.data/pglite',
  botToken: null,
  initDataMaxAgeS: 86400,
  adminToken: null,
  devIdentity: false,
  defaultRatePerHour: '1.00000000',
  maxRatePerHour: '1000.00000000',
  offlineCapMs: 8 * HOUR_MS,
  toleranceMs: 60_000,
  // A user's mining lease (one device mines at a time) lasts this long from its last renewal;
  // a mining device renews it with each sync (every minute), so it outlives one missed sync.
  // 0: no leases.
  miningLeaseMs: 150_000,
  maxBodyBytes: 256 * 1024,
  maxBatch: 100,
  poolSize: 10,
  pooler: 'none',
  statementTimeoutMs: 15_000,
  idleInTransactionTimeoutMs: 30_000,
  commitGroups: 2,
  commitGroupSize: 64,
  staticDirs: [],
  corsOrigin: '*',
  // Connections one process holds open at once; more are closed on accept.
  maxConnections: 2000,
  // A request's head must arrive within headersTimeoutMs and the whole request within
  // requestTimeoutMs, so slow senders cannot hold connections (408, then closed).
  headersTimeoutMs: 10_000,
  requestTimeoutMs: 30_000,
  // Per user, per process: a token bucket of userRequestBurst refilled at userRequestsPerS; beyond
  // it 429 RATE_LIMITED with Retry-After. 0 turns it off.
  userRequestsPerS: 5,
  userRequestBurst: 20,
  // Caps per user: pending review items, and client ids (devices, installs) with a sync sequence.
  // A sync that would pass one is refused as a whole (429, Retry-After): its ops stay with the client.
  maxPendingReviews: 100,
  maxClientsPerUser: 100,
  // Load shedding: while the event loop's mean delay over a second passes this, new requests get
  // 503 OVERLOADED with Retry-After. 0 turns it off.
  maxEventLoopDelayMs: 1000,
  // SIGTERM: new requests get 503 DRAINING while in-flight ones finish, for at most this long.
  drainTimeoutMs: 10_000,
  // Months of audit log and op results older than this are dropped by the retention job into
  // each user's checkpoint (server/retention.js).
  retentionDays: 90,
  // Shards of a distributed database (Citus) the users are spread over; 0: one database. Commit
  // groups then hold syncs of one shard only (commit-groups.js, docs/SCALING.md).
  shardCount: 0,
});

const configError = (message) => new ServerError('CONFIG_INVALID', message, 500);

const AMOUNT_TEXT = /^\d{1,10}(\.\d{1,8})?$/;

// REQUIRES: text matches AMOUNT_TEXT (or is NUMERIC(18,8) as the database prints it). The exact
// count of 10^-8 TON, for comparing rates: money is never a float.
export function amountUnits(text) {
  const [whole, fraction = ''] = text.split('.');
  return BigInt(whole + fraction.padEnd(8, '0'));
}

const amountText = (units) => `${units / 100_000_000n}.${String(units % 100_000_000n).padStart(8, '0')}`;

function integerIn(name, value, min, max) {
  if (!Number.isSafeInteger(value) || value < min || value > max) {
    throw configError(`${name} must be an integer in [${min}, ${max}], got ${value}`);
  }
  return value;
}

function intFromEnv(env, key) {
  const text = env[key];
  if (text === undefined || text === '') return undefined;
  if (!/^\d+$/.test(text)) throw configError(`${key} must be a non-negative integer, got "${text}"`);
  return Number(text);
}

// STATIC_DIR is "dir" (served at /) or "prefix=dir,prefix=dir" (e.g. "/=web-demo,/dist=dist").
function parseStaticDirs(text) {
  if (!text) return [];
  return text.split(',').map((entry) => {
    const at = entry.indexOf('=');
    return at < 0 ? { prefix: '/', dir: entry } : { prefix: entry.slice(0, at), dir: entry.slice(at + 1) };
  });
}

export function configFromEnv(env = process.env) {
  const config = {
    port: intFromEnv(env, 'PORT'),
    host: env.HOST || undefined,
    databaseUrl: env.DATABASE_URL || undefined,
    dataDir: env.DATA_DIR || undefined,
    botToken: env.BOT_TOKEN || undefined,
    initDataMaxAgeS: intFromEnv(env, 'INIT_DATA_MAX_AGE_S'),
    adminToken: env.ADMIN_TOKEN || undefined,
    devIdentity: env.DEV_IDENTITY === '1' || env.DEV_IDENTITY === 'true' ? true : undefined,
    defaultRatePerHour: env.DEFAULT_RATE_PER_HOUR || undefined,
    maxRatePerHour: env.MAX_RATE_PER_HOUR || undefined,
    offlineCapMs: intFromEnv(env, 'OFFLINE_CAP_MS'),
    toleranceMs: intFromEnv(env, 'TOLERANCE_MS'),
    miningLeaseMs: intFromEnv(env, 'MINING_LEASE_MS'),
    maxBodyBytes: intFromEnv(env, 'MAX_BODY_BYTES'),
    maxBatch: intFromEnv(env, 'MAX_BATCH'),
    poolSize: intFromEnv(env, 'DB_POOL_SIZE'),
    pooler: env.DB_POOLER || undefined,
    statementTimeoutMs: intFromEnv(env, 'DB_STATEMENT_TIMEOUT_MS'),
    idleInTransactionTimeoutMs: intFromEnv(env, 'DB_IDLE_IN_TRANSACTION_TIMEOUT_MS'),
    commitGroups: intFromEnv(env, 'COMMIT_GROUPS'),
    commitGroupSize: intFromEnv(env, 'COMMIT_GROUP_SIZE'),
    staticDirs: env.STATIC_DIR ? parseStaticDirs(env.STATIC_DIR) : undefined,
    corsOrigin: env.CORS_ORIGIN || undefined,
    maxConnections: intFromEnv(env, 'MAX_CONNECTIONS'),
    headersTimeoutMs: intFromEnv(env, 'HEADERS_TIMEOUT_MS'),
    requestTimeoutMs: intFromEnv(env, 'REQUEST_TIMEOUT_MS'),
    userRequestsPerS: intFromEnv(env, 'USER_REQUESTS_PER_S'),
    userRequestBurst: intFromEnv(env, 'USER_REQUEST_BURST'),
    maxPendingReviews: intFromEnv(env, 'MAX_PENDING_REVIEWS'),
    maxClientsPerUser: intFromEnv(env, 'MAX_CLIENTS_PER_USER'),
    maxEventLoopDelayMs: intFromEnv(env, 'MAX_EVENT_LOOP_DELAY_MS'),
    drainTimeoutMs: intFromEnv(env, 'DRAIN_TIMEOUT_MS'),
    retentionDays: intFromEnv(env, 'RETENTION_DAYS'),
    shardCount: intFromEnv(env, 'SHARD_COUNT'),
  };
  return Object.fromEntries(Object.entries(config).filter(([, value]) => value !== undefined));
}

// Fills defaults and checks ranges. `now` (server clock, ms) and `logger` pass through.
export function resolveConfig(overrides = {}) {
  const config = { ...DEFAULTS, now: () => Date.now(), ...overrides };
  integerIn('port', config.port, 0, 65535);
  integerIn('initDataMaxAgeS', config.initDataMaxAgeS, 1, 30 * 86400);
  integerIn('offlineCapMs', config.offlineCapMs, 0, 30 * 24 * HOUR_MS);
  integerIn('toleranceMs', config.toleranceMs, 0, HOUR_MS);
  integerIn('miningLeaseMs', config.miningLeaseMs, 0, 24 * HOUR_MS);
  integerIn('maxBodyBytes', config.maxBodyBytes, 1024, 16 * 1024 * 1024);
  integerIn('poolSize', config.poolSize, 1, 200);
  integerIn('statementTimeoutMs', config.statementTimeoutMs, 1, HOUR_MS);
  integerIn('idleInTransactionTimeoutMs', config.idleInTransactionTimeoutMs, 1, HOUR_MS);
  if (config.pooler !== 'none' && config.pooler !== 'transaction') {
    throw configError(`DB_POOLER must be "none" or "transaction", got ${JSON.stringify(config.pooler)}`);
  }
  integerIn('maxBatch', config.maxBatch, 1, 10000);
  integerIn('commitGroups', config.commitGroups, 1, 200);
  integerIn('commitGroupSize', config.commitGroupSize, 1, 1000);
  integerIn('maxConnections', config.maxConnections, 1, 1_000_000);
  integerIn('headersTimeoutMs', config.headersTimeoutMs, 1000, HOUR_MS);
  integerIn('requestTimeoutMs', config.requestTimeoutMs, 1000, HOUR_MS);
  if (config.requestTimeoutMs < config.headersTimeoutMs) {
    throw configError('requestTimeoutMs must be at least headersTimeoutMs');
  }
  integerIn('userRequestsPerS', config.userRequestsPerS, 0, 100_000);
  integerIn('userRequestBurst', config.userRequestBurst, 1, 100_000);
  integerIn('maxPendingReviews', config.maxPendingReviews, 1, 1_000_000);
  integerIn('maxClientsPerUser', config.maxClientsPerUser, 1, 1_000_000);
  integerIn('maxEventLoopDelayMs', config.maxEventLoopDelayMs, 0, HOUR_MS);
  integerIn('drainTimeoutMs', config.drainTimeoutMs, 0, HOUR_MS);
  integerIn('retentionDays', config.retentionDays, 31, 100 * 366);
  integerIn('shardCount', config.shardCount, 0, 1 << 16);
  for (const key of ['defaultRatePerHour', 'maxRatePerHour']) {
    if (typeof config[key] !== 'string' || !AMOUNT_TEXT.test(config[key])) {
      throw configError(`${key} must be a decimal string like "1.5", got ${JSON.stringify(config[key])}`);
    }
    // As the database and the core print amounts, so rates compare and answer as the same text.
    config[key] = amountText(amountUnits(config[key]));
  }
  // New users would accrue on their devices at a rate the server credits only up to the cap,
  // the rest going to review: refuse to start instead.
  if (amountUnits(config.defaultRatePerHour) > amountUnits(config.maxRatePerHour)) {
    throw configError(
      `DEFAULT_RATE_PER_HOUR (${config.defaultRatePerHour}) is above MAX_RATE_PER_HOUR (${config.maxRatePerHour}), ` +
        'the most the server credits',
    );
  }
  if (typeof config.now !== 'function') throw configError('now must be a function returning ms');
  if (config.botToken !== null && (typeof config.botToken !== 'string' || !/^\d+:[\w-]{20,}$/.test(config.botToken))) {
    throw configError('BOT_TOKEN does not look like a Telegram bot token');
  }
  if (config.adminToken !== null && (typeof config.adminToken !== 'string' || config.adminToken.length < 16)) {
    throw configError('ADMIN_TOKEN must be at least 16 characters');
  }
  if (!Array.isArray(config.staticDirs) || config.staticDirs.some((m) => !m.prefix?.startsWith('/') || !m.dir)) {
    throw configError('staticDirs must be a list of { prefix: "/...", dir }');
  }
  return config;
}
