// ton-earnings-guard/server: the sync server for a Node backend. Never imported by the client
// entry (js/index.js), so no browser bundle pulls in the database drivers or the server's core.
export { createServer, startServer } from './app.js';
export { configFromEnv } from './config.js';
export { openDatabase } from './db.js';
export { ServerError } from './errors.js';
export { migrate } from './migrate.js';
export { runRetention } from './retention.js';
