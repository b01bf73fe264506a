#!/usr/bin/env node
// CLI, installed as `ton-earnings-guard-server`: `serve` (the default) runs the sync server,
// `migrate` only applies migrations (npm run migrate in a clone), `retention` runs the retention
// job once (npm run retention; server/retention.js). Configuration comes from the environment,
// see config.js and README.md.
import pino from 'pino';

import { startServer } from './app.js';
import { configFromEnv, resolveConfig } from './config.js';
import { openDatabase } from './db.js';
import { migrate, migrationLog } from './migrate.js';
import { runRetention } from './retention.js';

const logger = pino({ name: 'earnings-server' });

async function runMigrations() {
  const config = resolveConfig(configFromEnv());
  const db = await openDatabase(config);
  try {
    const applied = await migrate(db, migrationLog(logger));
    logger.info({ database: db.kind, applied }, applied.length ? 'migrations applied' : 'schema already current');
  } finally {
    await db.close();
  }
}

async function runRetentionJob() {
  const config = resolveConfig(configFromEnv());
  const db = await openDatabase(config);
  try {
    await migrate(db, migrationLog(logger));
    const { created, dropped, cutoff } = await runRetention(db, { nowMs: config.now(), keepDays: config.retentionDays });
    logger.info({ created, dropped, cutoff }, `retention: ${created} month partitions created, ${dropped.length} dropped into checkpoints`);
  } finally {
    await db.close();
  }
}

async function runServer() {
  const app = await startServer({ ...configFromEnv(), logger });
  // SIGTERM (an orchestrator's stop) drains: in-flight syncs finish, new requests get 503 with
  // Retry-After, then the process exits 0; 1 if DRAIN_TIMEOUT_MS passed first.
  // One stop often arrives twice: a stop sent to the process group (systemd's default KillMode,
  // Ctrl-C in a terminal) reaches this process and also `npx`/`npm exec`, which forwards it
  // again. A repeat must not end the drain (Node's default action for an unhandled SIGTERM);
  // DRAIN_TIMEOUT_MS already bounds it.
  let stopping = false;
  const stop = async (signal) => {
    if (stopping) {
      logger.info({ signal }, 'already stopping: the drain goes on');
      return;
    }
    stopping = true;
    logger.info({ signal }, 'stopping');
    const { finished } = await app.drain();
    process.exit(finished ? 0 : 1);
  };
  process.on('SIGINT', stop);
  process.on('SIGTERM', stop);
}

const command = process.argv[2] ?? 'serve';
const run = { serve: runServer, migrate: runMigrations, retention: runRetentionJob }[command];
if (!run) {
  logger.error(`unknown command "${command}"; usage: ton-earnings-guard-server [serve|migrate|retention]`);
  process.exit(2);
}
run().catch((error) => {
  logger.fatal({ code: error.code, err: error }, 'server could not start');
  process.exit(1);
});
