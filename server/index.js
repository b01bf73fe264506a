// ton-earnings-guard/server: the sync server for a Node backend. Never imported by the client
// entry (js/index.js), so no browser bundle pulls in the database drivers or the server's core.
import { resolveConfig } from './config.js';
import { loadServerCore } from './core.js';
import { changeUserRate } from './sync-service.js';

export { createServer, startServer } from './app.js';
export { configFromEnv } from './config.js';
export { openDatabase } from './db.js';
export { ServerError } from './errors.js';
export { migrate } from './migrate.js';
export { runRetention } from './retention.js';

// For an app's backend that shares the server's database but does not run the server: the same
// change as PUT /v1/admin/users/:userId/rate. `settings`: the server's own configuration (e.g.
// configFromEnv()), so that the cap and the offline rule are the ones the server credits by.
export async function setUserRate(db, userId, rate, { note = null, ...settings } = {}) {
  const config = resolveConfig(settings);
  return changeUserRate({ db, core: await loadServerCore(), config }, userId, rate, { note });
}
