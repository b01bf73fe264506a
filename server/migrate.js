// Ordered SQL migrations (server/migrations/NNN_name.sql), each applied once and recorded in
// schema_migrations with a checksum. All pending migrations run in one transaction behind a
// transaction-scoped advisory lock, so two servers starting at once apply them exactly once
// (the second waits, then finds nothing to do) and a failing migration leaves no half schema.
import crypto from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

import { ServerError } from './errors.js';

export const MIGRATIONS_DIR = path.join(path.dirname(fileURLToPath(import.meta.url)), 'migrations');

// Any fixed 64-bit key; it only has to differ from other advisory locks on the same database.
const MIGRATION_LOCK_KEY = 7301184452;

export function readMigrations(dir = MIGRATIONS_DIR) {
  return fs
    .readdirSync(dir)
    .filter((name) => /^\d{3}_[a-z0-9_]+\.sql$/.test(name))
    .sort()
    .map((name) => {
      const sql = fs.readFileSync(path.join(dir, name), 'utf8');
      return { name, sql, checksum: crypto.createHash('sha256').update(sql).digest('hex') };
    });
}

// Returns the names of the migrations applied by this call (empty when the schema was current).
export async function migrate(db, { dir = MIGRATIONS_DIR } = {}) {
  const migrations = readMigrations(dir);
  return db.transaction(async (tx) => {
    await tx.query('SELECT pg_advisory_xact_lock($1)', [MIGRATION_LOCK_KEY]);
    await tx.exec(`CREATE TABLE IF NOT EXISTS schema_migrations (
      name TEXT PRIMARY KEY,
      checksum TEXT NOT NULL,
      applied_at TIMESTAMP WITH TIME ZONE NOT NULL DEFAULT CURRENT_TIMESTAMP
    )`);
    const applied = new Map(
      (await tx.query('SELECT name, checksum FROM schema_migrations')).map((row) => [row.name, row.checksum]),
    );
    const done = [];
    for (const migration of migrations) {
      const recorded = applied.get(migration.name);
      if (recorded !== undefined) {
        // An edited migration that already ran would leave databases that claim the same schema
        // but differ; refuse to start instead.
        if (recorded !== migration.checksum) {
          throw new ServerError(
            'MIGRATION_CHANGED',
            `migration ${migration.name} was changed after it was applied; add a new migration instead`,
            500,
          );
        }
        continue;
      }
      await tx.exec(migration.sql);
      await tx.query('INSERT INTO schema_migrations (name, checksum) VALUES ($1, $2)', [
        migration.name,
        migration.checksum,
      ]);
      done.push(migration.name);
    }
    return done;
  });
}
