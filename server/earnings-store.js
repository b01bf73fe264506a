// The SQL side of crediting: reading a user's row under lock, writing a credit plan back, the
// state answer, and the review queue. It decides nothing about how much to credit (that is the
// core's planCredit); it only makes each decision durable atomically.
//
// Round trips per commit group of syncs (commit-groups.js) on a real server: one statement that
// writes everything, checked against the revision each plan was made on (plus, when this process
// has not seen the user or its row changed elsewhere, an insert on first contact and a read; and
// a read when ops are resent). Set-valued writes go through jsonb_to_recordset, so a 100-op
// batch, or a group of many users' syncs, costs the same round trips as one op.
import { ServerError } from './errors.js';

const msToTimestamp = (param) => `(TIMESTAMP WITH TIME ZONE 'epoch' + ${param}::bigint * INTERVAL '1 millisecond')`;
// Through the interval since the epoch: EXTRACT from a timestamptz is only STABLE (it reads the
// session's time zone for other fields), and a distributed database refuses non-immutable
// functions in RETURNING; the difference and EXTRACT from an interval are immutable.
const timestampToMs = (column) =>
  `(EXTRACT(EPOCH FROM ${column} - TIMESTAMP WITH TIME ZONE 'epoch') * 1000)::bigint::text`;

// The core's audit metadata, minus what the row holds already: `seq` is in op_id (`clientId:seq`),
// and a credit's `credited` is new_value - old_value. A third of an audit row's bytes otherwise.
const auditMetadata = (a) =>
  `COALESCE(${a}.metadata, '{}'::jsonb) - 'seq' - CASE WHEN ${a}.operation_type = 'credit' THEN 'credited' ELSE '' END`;

const ROW_COLUMNS = `
  u.user_id::text AS user_id,
  u.total_earned::text AS total_earned,
  u.current_earnings::text AS current_earnings,
  u.base_earning_rate::text AS base_earning_rate,
  u.pending_review::text AS pending_review,
  u.budget_anchor::text AS budget_anchor,
  u.budget_settled::text AS budget_settled,
  u.budget_spent_by,
  u.mining_lease_client,
  u.mining_lease_until::text AS mining_lease_until,
  u.sync_status,
  ${timestampToMs('u.last_update')} AS last_update_ms,
  ${timestampToMs('u.start_date')} AS start_date_ms,
  u.revision::text AS revision`;

const toNumber = (text) => (text === null || text === undefined ? null : Number(text));

// The user_earnings row as the crediting code and the state answer see it.
function rowFromSql(sqlRow, lastSeq) {
  return {
    userId: toNumber(sqlRow.user_id),
    totalEarned: sqlRow.total_earned,
    currentEarnings: sqlRow.current_earnings,
    baseEarningRate: sqlRow.base_earning_rate,
    pendingReview: sqlRow.pending_review,
    budgetAnchor: toNumber(sqlRow.budget_anchor),
    budgetSettled: sqlRow.budget_settled,
    budgetSpentBy: sqlRow.budget_spent_by ?? null,
    leaseClientId: sqlRow.mining_lease_client ?? null,
    leaseUntil: toNumber(sqlRow.mining_lease_until),
    syncStatus: sqlRow.sync_status ?? 'synced',
    lastUpdate: toNumber(sqlRow.last_update_ms),
    startDate: toNumber(sqlRow.start_date_ms),
    lastSeq,
    // Text, as read: only ever compared by the database (writePlans).
    revision: sqlRow.revision,
  };
}

// `creditedRate`: the rate the server credits this row at (its rate, capped at MAX_RATE_PER_HOUR),
// which is the one the client is told to accrue at.
export function stateAnswer(row, creditedRate) {
  return {
    userId: row.userId,
    totalEarned: row.totalEarned,
    currentEarnings: row.currentEarnings,
    baseEarningRate: creditedRate,
    pendingReview: row.pendingReview,
    lastSeq: row.lastSeq,
    lastUpdate: row.lastUpdate,
    startDate: row.startDate,
    // Whether a device mines is the device's business: the seed's row has no such column (an
    // app's table holds none, so nothing may read one). Recovery resumes mining, as it always did.
    isActive: true,
    syncStatus: row.syncStatus,
  };
}

// What may be inlined into a SQL literal: the characters a client id is made of (the core's rule,
// core.contract.clientId, already checked it), none of which can end the literal.
const SQL_LITERAL_SAFE = /^[A-Za-z0-9_-]+$/;

// The answer's `lease` for a client reading the row at `nowMs` (GET /v1/state; a sync's comes
// from the core's plan, which may also grant it): whether `clientId` holds the user's mining
// lease, and who does until when. A lapsed lease is nobody's.
export function leaseAnswer(row, clientId, nowMs) {
  const live = row.leaseClientId !== null && row.leaseUntil !== null && row.leaseUntil > nowMs;
  return {
    held: live && row.leaseClientId === clientId,
    clientId: live ? row.leaseClientId : null,
    until: live ? row.leaseUntil : null,
  };
}

// The users a set-valued statement touches, also as a plain list beside its JSON rows: a
// condition `user_id = ANY(list)` names them, so a distributed database routes the statement to
// their shards only (one shard, when the commit group was formed per shard) instead of all.
const usersOf = (items) => [...new Set(items.map((item) => item.userId))];

// The statements that open a user's transaction (db.transaction's `opening`): lock the user's
// row, then read the client's last_seq. Literal SQL so that they travel with BEGIN in one round
// trip; the values are inlined only after checking they are a safe integer and a client id of
// [A-Za-z0-9_-], which cannot break out of a literal.
//
// last_seq is read by a second statement on purpose: under READ COMMITTED a statement that
// waited for the lock re-reads only the locked row, not joined rows, so a sequence row inserted
// by the transaction it waited for would be invisible to it and a raced duplicate would be
// credited twice. Each statement of the batch takes a fresh snapshot.
export function lockStatements(userId, clientId) {
  if (!Number.isSafeInteger(userId) || userId <= 0) throw new Error('lockStatements: user id not checked');
  if (clientId !== null && !SQL_LITERAL_SAFE.test(clientId)) throw new Error('lockStatements: client id not checked');
  const lock = `SELECT ${ROW_COLUMNS} FROM user_earnings u WHERE u.user_id = ${userId} FOR UPDATE`;
  if (clientId === null) return lock;
  return `${lock};
    SELECT last_seq::text AS last_seq FROM sync_client_sequences WHERE user_id = ${userId} AND client_id = '${clientId}'`;
}

// The user's row, locked for the rest of the transaction, created on first contact. Every write
// for a user happens under this lock, so a user's syncs and review decisions serialise while
// different users never wait for each other. `opened` is what lockStatements(userId, clientId)
// returned; `clientId` null: no client sequence needed.
export async function lockUser(tx, opened, { userId, clientId, nowMs, defaultRatePerHour }) {
  let [rows, sequence = []] = opened;
  if (rows.length === 0) {
    // The budget starts at first contact: the server has no evidence of mining before it.
    await tx.query(
      `INSERT INTO user_earnings (user_id, current_earnings, earning_rate, base_earning_rate,
         total_earned, budget_anchor, start_date, last_update, created_at, updated_at)
       VALUES ($1, 0, $2, $2, 0, $3, ${msToTimestamp('$3')}, ${msToTimestamp('$3')},
         ${msToTimestamp('$3')}, ${msToTimestamp('$3')})
       ON CONFLICT (user_id) DO NOTHING`,
      [userId, defaultRatePerHour, nowMs],
    );
    // A concurrent first contact may have created the row and a sequence meanwhile: read both
    // again, after the lock.
    [rows, sequence = []] = (await tx.exec(lockStatements(userId, clientId))).map((r) => r.rows);
  }
  return rowFromSql(rows[0], sequence.length ? Number(sequence[0].last_seq) : 0);
}

// The row ensureUsers creates, as lockUser would read it back: what a newcomer's sync is checked
// against before anything is written for it.
export function firstContactRow(userId, nowMs, defaultRatePerHour) {
  return {
    userId,
    totalEarned: '0',
    currentEarnings: '0',
    baseEarningRate: defaultRatePerHour,
    pendingReview: '0',
    budgetAnchor: nowMs,
    budgetSettled: '0',
    syncStatus: 'synced',
    lastUpdate: nowMs,
    startDate: nowMs,
    lastSeq: 0,
  };
}

// Creates the rows of users this process has not seen yet, before their group's transaction
// (first contact starts the server's budget clock). Inserting inside the group's transaction
// would take new rows' locks out of user order next to the FOR UPDATE locks, and two groups
// could deadlock; on its own, in user order, it cannot.
export async function ensureUsers(db, userIds, { nowMs, defaultRatePerHour }) {
  await db.query(
    `INSERT INTO user_earnings (user_id, current_earnings, earning_rate, base_earning_rate,
       total_earned, budget_anchor, start_date, last_update, created_at, updated_at)
     SELECT id, 0, $2, $2, 0, $3, ${msToTimestamp('$3')}, ${msToTimestamp('$3')},
       ${msToTimestamp('$3')}, ${msToTimestamp('$3')}
     FROM (SELECT jsonb_array_elements_text($1::jsonb)::bigint AS id) AS new_users
     ORDER BY id
     ON CONFLICT (user_id) DO NOTHING`,
    [JSON.stringify(userIds), defaultRatePerHour, nowMs],
  );
}

// Each member's row and its client's last seq, as of one snapshot, without locking: syncs plan on
// it and writePlans applies a plan only if the row is still at the revision read here. `members`:
// [{ userId, clientId }] of distinct users; undefined where a user has no row (e.g. the table was
// emptied since this process created it).
export async function readRows(db, members) {
  const rows = await db.query(
    `SELECT ${ROW_COLUMNS}, COALESCE(s.last_seq, 0)::text AS last_seq
     FROM jsonb_to_recordset($1::jsonb) AS m("userId" bigint, "clientId" text)
     JOIN user_earnings u ON u.user_id = m."userId" AND u.user_id = ANY($2::bigint[])
     LEFT JOIN sync_client_sequences s ON s.user_id = m."userId" AND s.client_id = m."clientId" AND s.user_id = ANY($2::bigint[])`,
    [JSON.stringify(members.map(({ userId, clientId }) => ({ userId, clientId }))), usersOf(members)],
  );
  const byUser = new Map(rows.map((r) => [Number(r.user_id), rowFromSql(r, Number(r.last_seq))]));
  return members.map(({ userId }) => byUser.get(userId));
}

// Per user, the pending review items and the client ids with a sync sequence: what the caps on
// both are checked against (sync-service.js). `userIds`: distinct users; a Map by user id.
export async function userCounts(db, userIds) {
  const rows = await db.query(
    `SELECT m.id::text AS user_id,
       (SELECT COUNT(*) FROM earnings_review_queue q
          WHERE q.user_id = m.id AND q.user_id = ANY($2::bigint[]) AND q.status = 'pending')::int AS pending_reviews,
       (SELECT COUNT(*) FROM sync_client_sequences s WHERE s.user_id = m.id AND s.user_id = ANY($2::bigint[]))::int AS clients
     FROM (SELECT jsonb_array_elements_text($1::jsonb)::bigint AS id) AS m`,
    [JSON.stringify(userIds), userIds],
  );
  return new Map(rows.map((row) => [Number(row.user_id), { pendingReviews: row.pending_reviews, clients: row.clients }]));
}

// What the server answered for ops it already processed, so a resent op gets the same answer
// again (its first response was lost on the way back). `ops`: [{ userId, clientId, seq }];
// answers keyed by `${userId}:${seq}`.
export async function previousResults(db, ops) {
  if (ops.length === 0) return new Map();
  const rows = await db.query(
    `SELECT s.user_id::text AS user_id, s.seq::text AS seq, s.status, s.credited::text AS credited,
       s.review::text AS review, s.refused::text AS refused, s.code, s.reason
     FROM sync_op_results s
     JOIN jsonb_to_recordset($1::jsonb) AS d("userId" bigint, "clientId" text, seq bigint)
       ON s.user_id = d."userId" AND s.client_id = d."clientId" AND s.seq = d.seq
     WHERE s.user_id = ANY($2::bigint[])`,
    [JSON.stringify(ops), usersOf(ops)],
  );
  return new Map(rows.map((row) => [`${row.user_id}:${row.seq}`, row]));
}

// The sync columns as the server's view of a user's syncs (docs/DESIGN.md, "The sync columns"):
// a sync that credited or queued something resets retry_count and says 'pending' while the user
// has items waiting for review, 'synced' otherwise; one whose every new op was rejected counts as
// a failed attempt, as a refused sync does (recordRefusedSyncs).
// retry_count is an INTEGER: it stops at its largest value rather than fail the write (a client
// can be refused as often as it likes).
const MAX_RETRY_COUNT = 2147483647;
const SYNC_OUTCOME = `
  sync_status = CASE WHEN p.failed THEN 'failed' WHEN p.pending_review > 0 THEN 'pending' ELSE 'synced' END,
  retry_count = CASE WHEN p.failed THEN LEAST(u.retry_count, ${MAX_RETRY_COUNT} - 1) + 1 ELSE 0 END`;

// Writes the credit plans of a commit group in one statement, which is its own transaction: each
// user's new row values and client sequence, the answer for each op, the audit records and the
// review items. A plan is applied only if its row is still at the revision it was planned on
// (the UPDATE waits for any transaction holding the row, then re-checks); everything else of a
// plan is written only for the rows updated, so a plan on a stale row writes nothing at all.
// `plans`: [{ userId, clientId, row, opResults, audit, reviews, failed }] (a plan may have no
// op results: one that only changes the mining lease). Returns the rows as stored, by
// user; a user missing from it was not written and has to be read and planned again.
export async function writePlans(db, nowMs, plans) {
  const rowsOf = (key) =>
    JSON.stringify(plans.flatMap((p) => p[key].map((item) => ({ ...item, user_id: p.userId, client_id: p.clientId }))));
  const rows = await db.query(
    `WITH plan AS (
       SELECT * FROM jsonb_to_recordset($1::jsonb) AS p(user_id bigint, client_id text, revision bigint,
         total_earned numeric, current_earnings numeric, pending_review numeric, budget_anchor bigint, budget_settled numeric, last_seq bigint,
         budget_spent_by text, lease_client text, lease_until bigint, failed boolean)
     ), updated AS (
       UPDATE user_earnings u SET
         total_earned = p.total_earned,
         current_earnings = p.current_earnings,
         pending_review = p.pending_review,
         budget_anchor = p.budget_anchor,
         budget_settled = p.budget_settled,
         budget_spent_by = p.budget_spent_by,
         mining_lease_client = p.lease_client,
         mining_lease_until = p.lease_until,
         last_update = ${msToTimestamp('$5')},
         updated_at = ${msToTimestamp('$5')},
         last_sync_attempt = ${msToTimestamp('$5')},
         ${SYNC_OUTCOME}
       FROM plan p
       WHERE u.user_id = p.user_id AND u.revision = p.revision AND u.user_id = ANY($6::bigint[])
       RETURNING ${ROW_COLUMNS}, u.user_id AS id, p.last_seq::text AS last_seq
     ), sequence AS (
       INSERT INTO sync_client_sequences (user_id, client_id, last_seq, updated_at)
       SELECT p.user_id, p.client_id, p.last_seq, ${msToTimestamp('$5')} FROM plan p
       -- A plan that only moved the mining lease of a client with no op yet opens no sequence:
       -- the cap on client ids per user counts sequences.
       WHERE p.user_id IN (SELECT id FROM updated) AND p.last_seq > 0
       ON CONFLICT (user_id, client_id) DO UPDATE
         SET last_seq = GREATEST(sync_client_sequences.last_seq, EXCLUDED.last_seq),
             updated_at = EXCLUDED.updated_at
     ), results AS (
       INSERT INTO sync_op_results (user_id, client_id, seq, status, credited, review, refused, code, reason, created_at)
       SELECT r.user_id, r.client_id, r.seq, r.status, r.credited, r.review, r.refused, r.code, r.reason, ${msToTimestamp('$5')}
       FROM jsonb_to_recordset($2::jsonb) AS r(user_id bigint, client_id text, seq bigint, status text,
         credited numeric, review numeric, refused numeric, code text, reason text)
       WHERE r.user_id IN (SELECT id FROM updated)
     ), audit AS (
       INSERT INTO earnings_audit_log (user_id, operation_type, old_value, new_value, timestamp, source,
         metadata, op_id)
       SELECT a.user_id, a.operation_type, a.old_value, a.new_value, ${msToTimestamp('$5')}, a.source,
         ${auditMetadata('a')}, a.op_id
       FROM jsonb_to_recordset($3::jsonb) AS a(user_id bigint, operation_type text,
         old_value numeric, new_value numeric, source text, metadata jsonb, op_id text)
       WHERE a.user_id IN (SELECT id FROM updated)
     ), queued AS (
       INSERT INTO earnings_review_queue (user_id, client_id, op_id, seq, amount, reason, context, created_at)
       SELECT q.user_id, q.client_id, q.op_id, q.seq, q.amount, q.reason, COALESCE(q.context, '{}'::jsonb),
         ${msToTimestamp('$5')}
       FROM jsonb_to_recordset($4::jsonb) AS q(user_id bigint, client_id text, op_id text, seq bigint,
         amount numeric, reason text, context jsonb)
       WHERE q.user_id IN (SELECT id FROM updated)
     )
     SELECT * FROM updated`,
    [
      JSON.stringify(
        plans.map((p) => ({
          user_id: p.userId,
          client_id: p.clientId,
          revision: p.revision,
          total_earned: p.row.totalEarned,
          current_earnings: p.row.currentEarnings,
          pending_review: p.row.pendingReview,
          budget_anchor: p.row.budgetAnchor,
          budget_settled: p.row.budgetSettled,
          last_seq: p.row.lastSeq,
          budget_spent_by: p.row.budgetSpentBy,
          lease_client: p.row.leaseClientId,
          lease_until: p.row.leaseUntil,
          failed: p.failed,
        })),
      ),
      rowsOf('opResults'),
      rowsOf('audit'),
      rowsOf('reviews'),
      nowMs,
      usersOf(plans),
    ],
  );
  return new Map(rows.map((row) => [Number(row.user_id), rowFromSql(row, Number(row.last_seq))]));
}

export async function listReviews(db, { status = 'pending', limit = 100, afterId = 0, userId = null }) {
  const rows = await db.query(
    `SELECT id::text AS id, user_id::text AS user_id, client_id, op_id, seq::text AS seq,
       amount::text AS amount, reason, context, status,
       ${timestampToMs('created_at')} AS created_at_ms, ${timestampToMs('decided_at')} AS decided_at_ms, decided_note
     FROM earnings_review_queue
     WHERE status = $1 AND id > $2 AND ($4::bigint IS NULL OR user_id = $4::bigint)
     ORDER BY id
     LIMIT $3`,
    [status, afterId, limit, userId],
  );
  return rows.map((row) => ({
    id: Number(row.id),
    userId: Number(row.user_id),
    clientId: row.client_id,
    opId: row.op_id,
    seq: Number(row.seq),
    amount: row.amount,
    reason: row.reason,
    context: row.context,
    status: row.status,
    createdAt: Number(row.created_at_ms),
    decidedAt: toNumber(row.decided_at_ms),
    note: row.decided_note,
  }));
}

// The review item, locked for the rest of the transaction; null when the user has no such item.
// REQUIRES: the owner's row already locked (lockUser), the order every writer uses, so a
// decision and a sync never deadlock.
export async function lockReviewItem(tx, userId, id) {
  const rows = await tx.query(
    `SELECT id::text AS id, user_id::text AS user_id, client_id, op_id, seq::text AS seq,
       amount::text AS amount, status
     FROM earnings_review_queue WHERE user_id = $1 AND id = $2 FOR UPDATE`,
    [userId, id],
  );
  if (rows.length === 0) return null;
  const [item] = rows;
  return { ...item, id: Number(item.id), userId: Number(item.user_id), seq: Number(item.seq) };
}

// The owner of a review item addressed by its id alone (the old admin route). It names no user,
// so on a sharded database it asks every shard; it runs before, not inside, the decision.
export async function reviewOwner(db, id) {
  const rows = await db.query('SELECT user_id::text AS user_id FROM earnings_review_queue WHERE id = $1', [id]);
  return rows.length === 0 ? null : Number(rows[0].user_id);
}

// Writes a review decision the core planned: the item's status, the row's new money, the audit.
export async function writeReviewDecision(tx, { item, status, note, row, audit, nowMs }) {
  await tx.query(
    `UPDATE earnings_review_queue SET status = $3, decided_at = ${msToTimestamp('$4')}, decided_note = $5
     WHERE user_id = $1 AND id = $2`,
    [item.userId, item.id, status, nowMs, note],
  );
  const [stored] = await tx.query(
    `WITH audit AS (
       INSERT INTO earnings_audit_log (user_id, operation_type, old_value, new_value, timestamp, source,
         metadata, op_id)
       SELECT $1, a.operation_type, a.old_value, a.new_value, ${msToTimestamp('$5')}, a.source,
         COALESCE(a.metadata, '{}'::jsonb) || jsonb_build_object('note', $7::text), $8
       FROM jsonb_to_recordset($6::jsonb) AS a(operation_type text, old_value numeric, new_value numeric,
         source text, metadata jsonb)
     )
     UPDATE user_earnings SET
       total_earned = $2::numeric,
       current_earnings = $3::numeric,
       pending_review = $4::numeric,
       updated_at = ${msToTimestamp('$5')},
       sync_status = CASE WHEN sync_status = 'pending' AND $4::numeric = 0 THEN 'synced' ELSE sync_status END
     WHERE user_id = $1
     RETURNING total_earned::text AS total_earned, pending_review::text AS pending_review`,
    [
      item.userId,
      row.totalEarned,
      row.currentEarnings,
      row.pendingReview,
      nowMs,
      JSON.stringify(audit),
      note,
      item.op_id,
    ],
  );
  return stored;
}

// Refused syncs (the core's plan said the request is wrong), as failed attempts on their users'
// rows: `refusals` maps a user id to { count, lastMs }. One statement for all of them; a user
// without a row stays without one (a refused sync creates nothing).
export async function recordRefusedSyncs(db, refusals) {
  await db.query(
    `UPDATE user_earnings u SET
       sync_status = 'failed',
       retry_count = LEAST(u.retry_count::bigint + r.count, ${MAX_RETRY_COUNT}),
       last_sync_attempt = GREATEST(u.last_sync_attempt, ${msToTimestamp('r.last_ms')})
     FROM jsonb_to_recordset($1::jsonb) AS r(user_id bigint, count integer, last_ms bigint)
     WHERE u.user_id = r.user_id`,
    [JSON.stringify([...refusals].map(([userId, { count, lastMs }]) => ({ user_id: userId, count, last_ms: lastMs })))],
  );
}

// Writes a rate change the core planned (plan_rate_change) and its audit row: operation_type
// 'rate_change', source 'admin', old and new value the row's rate before and after.
// REQUIRES: the row locked (lockUser) in `tx`.
export async function writeRateChange(tx, { userId, before, change, note, nowMs }) {
  const metadata = {
    creditedRateBefore: change.previousRate,
    settled: change.settled,
    settledFromMs: change.settledFromMs,
    budgetSettled: change.row.budgetSettled,
    budgetAnchor: change.row.budgetAnchor,
    note,
  };
  const [stored] = await tx.query(
    `WITH audit AS (
       INSERT INTO earnings_audit_log (user_id, operation_type, old_value, new_value, timestamp, source, metadata)
       VALUES ($1, 'rate_change', $2::numeric, $3::numeric, ${msToTimestamp('$6')}, 'admin', $7::jsonb)
     )
     UPDATE user_earnings u SET
       base_earning_rate = $3::numeric,
       budget_settled = $4::numeric,
       budget_anchor = $5::bigint,
       updated_at = ${msToTimestamp('$6')}
     WHERE u.user_id = $1
     RETURNING ${ROW_COLUMNS}`,
    [userId, before.baseEarningRate, change.row.baseEarningRate, change.row.budgetSettled, change.row.budgetAnchor, nowMs, JSON.stringify(metadata)],
  );
  return rowFromSql(stored, 0);
}
