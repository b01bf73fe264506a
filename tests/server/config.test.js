// Configuration from the environment and its validation, and the CLI's migrate command.
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { test } from 'node:test';

import { configFromEnv, resolveConfig } from '../../server/config.js';
import { readMigrations } from '../../server/migrate.js';
import { BOT_TOKEN, onRealPostgres, openTestDatabase } from './helpers.js';

const MAIN = path.join(path.dirname(fileURLToPath(import.meta.url)), '..', '..', 'server', 'main.js');
const run = promisify(execFile);

test('the environment maps onto the config, and unset variables keep the defaults', () => {
  const config = resolveConfig(
    configFromEnv({
      PORT: '9000',
      DEV_IDENTITY: '1',
      OFFLINE_CAP_MS: '3600000',
      TOLERANCE_MS: '0',
      DEFAULT_RATE_PER_HOUR: '0.5',
      BOT_TOKEN,
      STATIC_DIR: '/=web-demo,/dist=dist',
      DB_POOLER: 'transaction',
      DB_STATEMENT_TIMEOUT_MS: '5000',
    }),
  );
  assert.equal(config.pooler, 'transaction');
  assert.equal(config.statementTimeoutMs, 5000);
  assert.equal(config.idleInTransactionTimeoutMs, 30_000);
  assert.equal(config.port, 9000);
  assert.equal(config.host, '127.0.0.1');
  assert.equal(config.devIdentity, true);
  assert.equal(config.offlineCapMs, 3_600_000);
  assert.equal(config.toleranceMs, 0);
  assert.equal(config.defaultRatePerHour, '0.50000000', 'rates are kept as the database prints them');
  assert.deepEqual(config.staticDirs, [
    { prefix: '/', dir: 'web-demo' },
    { prefix: '/dist', dir: 'dist' },
  ]);
  assert.equal(resolveConfig(configFromEnv({ DEV_IDENTITY: 'yes please' })).devIdentity, false);
  const limits = resolveConfig(
    configFromEnv({
      MAX_CONNECTIONS: '50',
      HEADERS_TIMEOUT_MS: '5000',
      REQUEST_TIMEOUT_MS: '6000',
      USER_REQUESTS_PER_S: '0',
      USER_REQUEST_BURST: '7',
      MAX_PENDING_REVIEWS: '8',
      MAX_CLIENTS_PER_USER: '9',
      DRAIN_TIMEOUT_MS: '1234',
      MAX_EVENT_LOOP_DELAY_MS: '250',
    }),
  );
  assert.deepEqual(
    [limits.maxConnections, limits.headersTimeoutMs, limits.requestTimeoutMs, limits.userRequestsPerS, limits.userRequestBurst],
    [50, 5000, 6000, 0, 7],
  );
  assert.deepEqual([limits.maxPendingReviews, limits.maxClientsPerUser, limits.drainTimeoutMs, limits.maxEventLoopDelayMs], [8, 9, 1234, 250]);
});

test('out-of-range or malformed settings stop the server with CONFIG_INVALID', () => {
  const bad = [
    { PORT: '70000' },
    { PORT: '-1' },
    { OFFLINE_CAP_MS: '1.5' },
    { TOLERANCE_MS: '3600001' },
    { DEFAULT_RATE_PER_HOUR: '1e3' },
    { DEFAULT_RATE_PER_HOUR: '-1' },
    { MAX_RATE_PER_HOUR: '0.000000001' },
    { MAX_BODY_BYTES: '10' },
    { MAX_CONNECTIONS: '0' },
    { HEADERS_TIMEOUT_MS: '10' },
    { HEADERS_TIMEOUT_MS: '20000', REQUEST_TIMEOUT_MS: '10000' },
    { USER_REQUEST_BURST: '0' },
    { MAX_PENDING_REVIEWS: '0' },
    { BOT_TOKEN: 'not-a-token' },
    { ADMIN_TOKEN: 'short' },
    { MAX_BATCH: '0' },
    { DB_POOLER: 'session' },
    { DB_STATEMENT_TIMEOUT_MS: '0' },
    { DB_IDLE_IN_TRANSACTION_TIMEOUT_MS: '3600001' },
  ];
  for (const env of bad) {
    assert.throws(() => resolveConfig(configFromEnv(env)), (error) => error.code === 'CONFIG_INVALID', JSON.stringify(env));
  }
});

test('npm run migrate (node server/main.js migrate) applies once, then reports the schema current', async (t) => {
  // Two fresh PGlite processes cost half a minute on a busy 2-core machine; the command is the
  // same code on both databases, so it runs in the PostgreSQL pass only.
  if (!onRealPostgres) {
    t.skip('runs in the PostgreSQL pass');
    return;
  }
  const database = await openTestDatabase({ migrated: false });
  const env = { ...process.env, DATABASE_URL: database.url };
  try {
    const lines = async () => (await run(process.execPath, [MAIN, 'migrate'], { env })).stdout.trim().split('\n').map((l) => JSON.parse(l));
    const first = (await lines()).find((line) => line.applied);
    assert.equal(first.applied.length, readMigrations().length);
    const second = (await lines()).find((line) => line.applied);
    assert.deepEqual(second.applied, []);
    assert.equal(second.msg, 'schema already current');
  } finally {
    await database.drop();
  }
});

test('an unknown CLI command exits with 2 and says what it accepts', async () => {
  await assert.rejects(run(process.execPath, [MAIN, 'serve-forever']), (error) => error.code === 2 && /unknown command/.test(error.stdout));
});
