// Prometheus metrics (Properties 29, 32). One registry per server instance, so tests that start
// several servers in one process each read their own numbers.
import client from 'prom-client';

export function createMetrics() {
  const registry = new client.Registry();
  client.collectDefaultMetrics({ register: registry, prefix: 'earnings_server_' });
  const metric = (Type, options) => new Type({ ...options, registers: [registry] });
  return {
    registry,
    syncDuration: metric(client.Histogram, {
      name: 'earnings_sync_duration_seconds',
      help: 'Time to answer POST /v1/sync, by outcome',
      labelNames: ['outcome'],
      buckets: [0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5],
    }),
    commitGroupSize: metric(client.Histogram, {
      name: 'earnings_commit_group_syncs',
      help: 'Syncs committed together in one transaction (1 when the server is not busy)',
      buckets: [1, 2, 4, 8, 16, 32, 64],
    }),
    syncsWaiting: metric(client.Gauge, {
      name: 'earnings_syncs_waiting',
      help: 'Syncs waiting for a transaction (grows when the database is the bottleneck)',
    }),
    syncRequests: metric(client.Counter, {
      name: 'earnings_sync_requests_total',
      help: 'POST /v1/sync requests by outcome (ok, client_error, server_error)',
      labelNames: ['outcome'],
    }),
    syncOps: metric(client.Counter, {
      name: 'earnings_sync_ops_total',
      help: 'Ops answered by status (applied, duplicate, review, rejected, gap)',
      labelNames: ['status'],
    }),
    rejections: metric(client.Counter, {
      name: 'earnings_rejections_total',
      help: 'Requests and ops refused, by stable error code',
      labelNames: ['code'],
    }),
    reviews: metric(client.Counter, {
      name: 'earnings_reviews_total',
      help: 'Review queue items by event (queued, approved, rejected)',
      labelNames: ['event'],
    }),
    authFailures: metric(client.Counter, {
      name: 'earnings_auth_failures_total',
      help: 'Refused authentications by code',
      labelNames: ['code'],
    }),
  };
}
