// `npm start`: the sync server on the embedded database (PGlite in .data/), serving this demo, the
// client package and the wasm from the same origin. The demo's development identity is on so the
// page works outside Telegram; with BOT_TOKEN set, Telegram's signed initData works as well.
import crypto from 'node:crypto';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

import { createServer } from '../server/app.js';
import { configFromEnv } from '../server/config.js';

const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');

// What the demo changes from the server's defaults; the environment (PORT, HOST, DATA_DIR,
// DATABASE_URL, BOT_TOKEN, ADMIN_TOKEN, DEV_IDENTITY=0, ...) still wins.
export function demoServerOptions(env = process.env) {
  const fromEnv = configFromEnv(env);
  return {
    port: 8787,
    dataDir: path.join(ROOT, '.data', 'pglite'),
    devIdentity: env.DEV_IDENTITY !== '0' && env.DEV_IDENTITY !== 'false',
    // A fresh token per run unless one is configured: the review queue is never open by default.
    adminToken: crypto.randomBytes(16).toString('hex'),
    ...fromEnv,
    staticDirs: [
      { prefix: '/', dir: path.join(ROOT, 'web-demo') },
      { prefix: '/js', dir: path.join(ROOT, 'js') },
      { prefix: '/dist', dir: path.join(ROOT, 'dist') },
    ],
  };
}

export async function startDemo(options = demoServerOptions()) {
  const app = await createServer(options);
  await app.listen();
  return app;
}

function shownPath(dir) {
  const relative = path.relative(ROOT, dir);
  return relative && !relative.startsWith('..') && !path.isAbsolute(relative) ? relative : dir;
}

async function main() {
  const options = demoServerOptions();
  const app = await startDemo(options);
  const shown = app.url.replace('http://127.0.0.1', 'http://localhost');
  const lines = [
    '',
    `  Demo:          ${shown}/`,
    `  Database:      ${options.databaseUrl ? 'PostgreSQL (DATABASE_URL)' : `PGlite in ${shownPath(options.dataDir)}`}`,
    `  Admin token:   ${options.adminToken}   (paste it into "Review queue" on the page)`,
    `  Metrics:       ${shown}/metrics`,
    `  Identity:      ${options.devIdentity ? 'development users (outside Telegram)' : 'Telegram only'}${options.botToken ? ' + Telegram initData (BOT_TOKEN)' : ''}`,
    '',
  ];
  process.stdout.write(`${lines.join('\n')}\n`);
  const stop = async () => {
    await app.close();
    process.exit(0);
  };
  process.once('SIGINT', stop);
  process.once('SIGTERM', stop);
}

if (process.argv[1] && path.resolve(process.argv[1]) === fileURLToPath(import.meta.url)) {
  main().catch((error) => {
    process.stderr.write(`demo could not start: ${error.code ? `${error.code}: ` : ''}${error.message}\n`);
    process.exit(1);
  });
}
