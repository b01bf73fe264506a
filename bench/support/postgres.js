// The PostgreSQL a server bench runs against: DATABASE_URL's cluster when set, else a throwaway
// PostgreSQL 15 cluster that scripts/pg-throwaway.sh starts, runs the bench inside (with
// DATABASE_URL set) and removes afterwards.
import { spawnSync } from 'node:child_process';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import pg from 'pg';

const THROWAWAY = path.join(path.dirname(fileURLToPath(import.meta.url)), '../../scripts/pg-throwaway.sh');

// Without DATABASE_URL this process runs the bench again inside a throwaway cluster and exits
// with its status; with it, returns and the bench goes on.
export function requirePostgres() {
  if (process.env.DATABASE_URL) return;
  const run = spawnSync('bash', [THROWAWAY, process.execPath, ...process.argv.slice(1)], { stdio: 'inherit' });
  process.exit(run.status ?? 1);
}

// A new, empty database `name` on DATABASE_URL's cluster (an old one of that name is dropped);
// returns its URL.
export async function createDatabase(name) {
  const admin = new pg.Client({ connectionString: process.env.DATABASE_URL });
  await admin.connect();
  await admin.query(`DROP DATABASE IF EXISTS ${name} WITH (FORCE)`);
  await admin.query(`CREATE DATABASE ${name}`);
  await admin.end();
  const url = new URL(process.env.DATABASE_URL);
  url.pathname = `/${name}`;
  return url.toString();
}
