// How long the data-lifecycle migrations (020-023) take on a database of the previous version
// holding a volume of rows: BENCH_ROWS audit rows and as many op results, for BENCH_ROWS / 10
// users. Writes to the tables each migration touches wait for it (docs/PERFORMANCE.md). Prints
// one line per migration; asserts nothing. Starts a throwaway PostgreSQL 15 cluster unless
// DATABASE_URL is set.
//
//   node bench/upgrade-volume.js        BENCH_ROWS=1000000
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';

import { openDatabase } from '../server/db.js';
import { MIGRATIONS_DIR, migrate } from '../server/migrate.js';
import { requirePostgres } from './support/postgres.js';

const ROWS = Number(process.env.BENCH_ROWS ?? 1_000_000);
const USERS = Math.max(1, Math.floor(ROWS / 10));

requirePostgres();

// Seeding a million rows can outlast the server's statement timeout on a busy machine.
const db = await openDatabase({ databaseUrl: process.env.DATABASE_URL, poolSize: 2, statementTimeoutMs: 600_000 });
const previous = fs.mkdtempSync(path.join(os.tmpdir(), 'earnings-migrations-'));
for (const name of fs.readdirSync(MIGRATIONS_DIR).filter((n) => n < '020')) fs.copyFileSync(path.join(MIGRATIONS_DIR, name), path.join(previous, name));
await migrate(db, { dir: previous });
fs.rmSync(previous, { recursive: true });
// Rows as the previous version wrote them: client ids as the client package makes them, one
// second apart from 2026-01-01 (twelve days for a million).
const client = 'c-0123456789abcdef01234567';
await db.exec(`
  INSERT INTO user_earnings (user_id, total_earned, current_earnings) SELECT g, 1, 1 FROM generate_series(1, ${USERS}) g;
  INSERT INTO earnings_audit_log (user_id, operation_type, old_value, new_value, timestamp, source, client_id, op_id, metadata)
    SELECT g % ${USERS} + 1, 'credit', 0, 1, '2026-01-01'::timestamptz + g * INTERVAL '1 second', 'sync', '${client}', '${client}:' || g,
      '{"seq": 1, "type": "accrual", "claimed": "1.00000000", "credited": "1.00000000", "review": "0.00000000", "rate": "1.00000000"}'
    FROM generate_series(1, ${ROWS}) g;
  INSERT INTO sync_op_results (user_id, client_id, seq, op_id, status, credited, review, created_at)
    SELECT g % ${USERS} + 1, '${client}', g, '${client}:' || g, 'applied', 1, 0, '2026-01-01'::timestamptz + g * INTERVAL '1 second'
    FROM generate_series(1, ${ROWS}) g;
  ANALYZE;`);
console.log(`| migration (${ROWS.toLocaleString('en')} audit rows and op results, ${USERS.toLocaleString('en')} users) | ms |`);
console.log('|---|---:|');
await migrate(db, { onApplied: (step) => console.log(`| ${step.name} | ${step.ms.toFixed(0)} |`) });
await db.close();
