// Types of ton-earnings-guard/server (server/index.js), the sync server for a Node backend.
// Money is always a decimal string ("2.50000000"), never a JS number; user ids are positive safe
// integers; times are milliseconds since the epoch.
// node:http's types are written out as the few members used here, so that a TypeScript app
// needs no @types/node to use these types.

import type { ServerState } from '../js/core.js';

/** A decimal string amount of TON, e.g. "2.5" in, "2.50000000" out. */
export type Amount = string;

/** The configuration (README's table, with the environment variable each key comes from). */
export interface ServerConfig {
  port: number;
  host: string;
  /** postgresql://...; null: embedded PGlite in dataDir. */
  databaseUrl: string | null;
  dataDir: string;
  botToken: string | null;
  initDataMaxAgeS: number;
  /** Bearer token of the /v1/admin endpoints; null: those endpoints answer 404. */
  adminToken: string | null;
  devIdentity: boolean;
  defaultRatePerHour: Amount;
  maxRatePerHour: Amount;
  offlineCapMs: number;
  toleranceMs: number;
  /** MINING_LEASE_MS: how long a user's mining lease lasts from its last renewal; 0: no leases. */
  miningLeaseMs: number;
  maxBodyBytes: number;
  maxBatch: number;
  poolSize: number;
  commitGroups: number;
  commitGroupSize: number;
  staticDirs: Array<{ prefix: string; dir: string }>;
  corsOrigin: string;
  /** RETENTION_DAYS: months of audit log and op results older than this are dropped by runRetention. */
  retentionDays: number;
  /** SHARD_COUNT: the shards of a distributed PostgreSQL (Citus); 0: one database. */
  shardCount: number;
  /** The server's clock, ms. */
  now: () => number;
}

/** The few pino methods the server calls; a pino logger fits. */
export interface ServerLogger {
  info(object: object, message?: string): void;
  warn(object: object, message?: string): void;
  error(object: object, message?: string): void;
}

/** The server's view of a database: PGlite or PostgreSQL, same SQL. */
export interface EarningsDatabase {
  readonly kind: 'pglite' | 'postgres';
  query(text: string, params?: unknown[]): Promise<Array<Record<string, unknown>>>;
  exec(text: string): Promise<Array<{ rows: Array<Record<string, unknown>> }>>;
  transaction<T>(work: (tx: Pick<EarningsDatabase, 'query' | 'exec'>) => Promise<T>): Promise<T>;
  close(): Promise<void>;
}

export interface CreateServerOptions extends Partial<Omit<ServerConfig, 'now'>> {
  now?: () => number;
  logger?: ServerLogger;
  /** An already open database (openDatabase); the caller then closes it. */
  db?: EarningsDatabase;
}

export interface EarningsServer {
  readonly config: Readonly<ServerConfig>;
  readonly db: EarningsDatabase;
  /** The node:http Server (listening once listen() resolved). */
  readonly server: { readonly listening: boolean; close(callback?: (error?: Error) => void): unknown };
  /** The request handler (req: IncomingMessage, res: ServerResponse), to mount in another node:http server. */
  readonly handler: (req: unknown, res: unknown) => void;
  /** http://host:port once listening, else null. */
  readonly url: string | null;
  /**
   * The app's backend changing a user's rate (TON per hour, 0 < rate <= maxRatePerHour) from the
   * server's now on; the same as PUT /v1/admin/users/:userId/rate. Time before it is credited at
   * the old rate, after it at the new one; audited as 'rate_change' (source 'admin'). A user the
   * server has not seen gets a row. RATE_INVALID / USER_ID_INVALID (ServerError) otherwise.
   */
  setUserRate(userId: number, rate: Amount, options?: { note?: string | null }): Promise<RateChangeAnswer>;
  listen(port?: number, host?: string): Promise<string>;
  /** Stops listening and closes the database it opened. */
  close(): Promise<void>;
}

/**
 * The user's state as its clients are told it, after a rate change: the sync answer's state,
 * whose baseEarningRate is the rate the server credits (the row's, capped at maxRatePerHour) and
 * whose syncStatus is the row's, never one of the states only a client is in.
 */
export interface RateChangeAnswer {
  state: ServerState & { syncStatus: 'synced' | 'pending' | 'failed' };
  serverTime: number;
}

/**
 * setUserRate for a backend that shares the server's database without running the server; pass
 * the server's configuration (e.g. configFromEnv()) so the cap and offline rule are the same.
 */
export function setUserRate(
  db: EarningsDatabase,
  userId: number,
  rate: Amount,
  options?: { note?: string | null } & Partial<ServerConfig>,
): Promise<RateChangeAnswer>;

/** Opens the database, applies pending migrations, loads the core; does not listen. */
export function createServer(options?: CreateServerOptions): Promise<EarningsServer>;
/** createServer, then listen on config.port and config.host. */
export function startServer(options?: CreateServerOptions): Promise<EarningsServer>;

/** The configuration keys the environment sets (PORT, DATABASE_URL, ADMIN_TOKEN, ...). */
export function configFromEnv(env?: Record<string, string | undefined>): Partial<ServerConfig>;

export function openDatabase(options?: {
  databaseUrl?: string | null;
  dataDir?: string;
  poolSize?: number;
}): Promise<EarningsDatabase>;

/** One migration applied by this call: how long it took and how many transactions it committed. */
export interface AppliedMigration {
  name: string;
  ms: number;
  batches: number;
}

/**
 * Applies pending migrations, each in a transaction of its own (a backfill in batches); returns
 * the names applied by this call. A failing one is rolled back and rejects with a ServerError
 * whose code is `MIGRATION_FAILED`, carrying `migration` (its file name) and `sqlState`.
 */
export function migrate(
  db: EarningsDatabase,
  options?: {
    onApplied?: (step: AppliedMigration) => void;
    /** A migration gave up waiting for a table lock after 500 ms and will try again (20 tries). */
    onLockWait?: (wait: { name: string; attempt: number; message: string }) => void | Promise<void>;
  },
): Promise<string[]>;

/** An error the server answers with: a stable code and an HTTP status. */
export class ServerError extends Error {
  constructor(code: string, message: string, status?: number);
  readonly code: string;
  readonly status: number;
}

/** What one run of the retention job did (server/retention.js, README "Data retention"). */
export interface RetentionRun {
  /** Month partitions created (ahead of now, or for rows that waited in the DEFAULT partition). */
  created: number;
  /** Partitions dropped after their rows were added to each user's earnings_checkpoints row. */
  dropped: Array<{ partition: string; users: number }>;
  /** ISO time: months that ended before it were dropped. */
  cutoff: string;
}

/** Runs the retention job once at the server time nowMs (ms), keeping keepDays (>= 1) days. */
export function runRetention(db: EarningsDatabase, options: { nowMs: number; keepDays: number; aheadMonths?: number }): Promise<RetentionRun>;
