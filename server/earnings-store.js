// The SQL side of crediting: reading a user's row under lock, writing a credit plan back, the
// state answer, and the review queue. It decides nothing about how much to credit (that is the
// core's planCredit); it only makes each decision durable atomically.
//
// Round trips per sync on a real server: BEGIN with the lock and the sequence read, one
// statement that writes everything, COMMIT (plus an insert on first contact). Set-valued writes
// go through jsonb_to_recordset so a 100-op batch costs the same round trips as one op.
import { ServerError } from './errors.js';

const msToTimestamp = (param) => `(TIMESTAMP WITH TIME ZONE 'epoch' + ${param}::bigint * INTERVAL '1 millisecond')`;
const timestampToMs = (column) => `(EXTRACT(EPOCH FROM ${column}) * 1000)::bigint::text`;

const ROW_COLUMNS = `
  u.user_id::text AS user_id,
  u.total_earned::text AS total_earned,
  u.current_earnings::text AS current_earnings,
  u.base_earning_rate::text AS base_earning_rate,
  u.pending_review::text AS pending_review,
  u.budget_anchor::text AS budget_anchor,
  u.is_active,
  u.sync_status,
  ${timestampToMs('u.last_update')} AS last_update_ms,
  ${timestampToMs('u.start_date')} AS start_date_ms`;

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
    isActive: sqlRow.is_active !== false,
    syncStatus: sqlRow.sync_status ?? 'synced',
    lastUpdate: toNumber(sqlRow.last_update_ms),
    startDate: toNumber(sqlRow.start_date_ms),
    lastSeq,
  };
}

export function stateAnswer(row) {
  return {
    userId: row.userId,
    totalEarned: row.totalEarned,
    currentEarnings: row.currentEarnings,
    baseEarningRate: row.baseEarningRate,
    pendingReview: row.pendingReview,
    lastSeq: row.lastSeq,
    lastUpdate: row.lastUpdate,
    startDate: row.startDate,
    isActive: row.isActive,
    syncStatus: row.syncStatus,
  };
}

const CLIENT_ID = /^[A-Za-z0-9_-]{1,64}$/;

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
  if (clientId !== null && !CLIENT_ID.test(clientId)) throw new Error('lockStatements: client id not checked');
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

// What the server answered for ops it already processed, by seq, so a resent op gets the same
// answer again (its first response was lost on the way back).
export async function previousResults(tx, { userId, clientId, seqs }) {
  if (seqs.length === 0) return new Map();
  const rows = await tx.query(
    `SELECT seq::text AS seq, op_id, status, credited::text AS credited, review::text AS review, code, reason
     FROM sync_op_results
     WHERE user_id = $1 AND client_id = $2 AND seq IN (SELECT jsonb_array_elements_text($3::jsonb)::bigint)`,
    [userId, clientId, JSON.stringify(seqs)],
  );
  return new Map(rows.map((row) => [Number(row.seq), row]));
}

// Writes one credit plan: the new row values, the client's last seq, the answer for each op, the
// audit records and the review items, in one statement. Returns the row as stored.
// REQUIRES: lockUser() earlier in the same transaction.
export async function writePlan(tx, { userId, clientId, nowMs, row, lastSeq, opResults, audit, reviews }) {
  const rows = await tx.query(
    `WITH updated AS (
       UPDATE user_earnings u SET
         total_earned = $3::numeric,
         current_earnings = $4::numeric,
         pending_review = $5::numeric,
         budget_anchor = $6::bigint,
         last_update = ${msToTimestamp('$7')},
         updated_at = ${msToTimestamp('$7')},
         last_sync_attempt = ${msToTimestamp('$7')},
         sync_status = 'synced',
         retry_count = 0
       WHERE u.user_id = $1
       RETURNING ${ROW_COLUMNS}
     ), sequence AS (
       INSERT INTO sync_client_sequences (user_id, client_id, last_seq, updated_at)
       VALUES ($1, $2, $8::bigint, ${msToTimestamp('$7')})
       ON CONFLICT (user_id, client_id) DO UPDATE
         SET last_seq = GREATEST(sync_client_sequences.last_seq, EXCLUDED.last_seq),
             updated_at = EXCLUDED.updated_at
     ), results AS (
       INSERT INTO sync_op_results (user_id, client_id, seq, op_id, status, credited, review, code, reason, created_at)
       SELECT $1, $2, r.seq, r.op_id, r.status, r.credited, r.review, r.code, r.reason, ${msToTimestamp('$7')}
       FROM jsonb_to_recordset($9::jsonb) AS r(seq bigint, op_id text, status text, credited numeric,
         review numeric, code text, reason text)
     ), audit AS (
       INSERT INTO earnings_audit_log (user_id, operation_type, old_value, new_value, timestamp, source,
         metadata, client_id, op_id)
       SELECT $1, a.operation_type, a.old_value, a.new_value, ${msToTimestamp('$7')}, a.source,
         COALESCE(a.metadata, '{}'::jsonb), $2, a.op_id
       FROM jsonb_to_recordset($10::jsonb) AS a(operation_type text, old_value numeric, new_value numeric,
         source text, metadata jsonb, op_id text)
     ), queued AS (
       INSERT INTO earnings_review_queue (user_id, client_id, op_id, seq, amount, reason, context, created_at)
       SELECT $1, $2, q.op_id, q.seq, q.amount, q.reason, COALESCE(q.context, '{}'::jsonb), ${msToTimestamp('$7')}
       FROM jsonb_to_recordset($11::jsonb) AS q(op_id text, seq bigint, amount numeric, reason text, context jsonb)
     )
     SELECT * FROM updated`,
    [
      userId,
      clientId,
      row.totalEarned,
      row.currentEarnings,
      row.pendingReview,
      row.budgetAnchor,
      nowMs,
      lastSeq,
      JSON.stringify(opResults),
      JSON.stringify(audit),
      JSON.stringify(reviews),
    ],
  );
  return rowFromSql(rows[0], lastSeq);
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

// The review item, locked for the rest of the transaction.
// REQUIRES: the owner's row already locked (lockUser), the order every writer uses, so a
// decision and a sync never deadlock.
export async function lockReviewItem(tx, id) {
  const rows = await tx.query(
    `SELECT id::text AS id, user_id::text AS user_id, client_id, op_id, seq::text AS seq,
       amount::text AS amount, status
     FROM earnings_review_queue WHERE id = $1 FOR UPDATE`,
    [id],
  );
  if (rows.length === 0) return null;
  const [item] = rows;
  return { ...item, id: Number(item.id), userId: Number(item.user_id), seq: Number(item.seq) };
}

export async function reviewOwner(tx, id) {
  const rows = await tx.query('SELECT user_id::text AS user_id FROM earnings_review_queue WHERE id = $1', [id]);
  return rows.length === 0 ? null : Number(rows[0].user_id);
}

// Writes a review decision the core planned: the item's status, the row's new money, the audit.
export async function writeReviewDecision(tx, { item, status, note, row, audit, nowMs }) {
  await tx.query(
    `UPDATE earnings_review_queue SET status = $2, decided_at = ${msToTimestamp('$3')}, decided_note = $4
     WHERE id = $1`,
    [item.id, status, nowMs, note],
  );
  const [stored] = await tx.query(
    `WITH audit AS (
       INSERT INTO earnings_audit_log (user_id, operation_type, old_value, new_value, timestamp, source,
         metadata, client_id, op_id)
       SELECT $1, a.operation_type, a.old_value, a.new_value, ${msToTimestamp('$5')}, a.source,
         COALESCE(a.metadata, '{}'::jsonb) || jsonb_build_object('note', $7::text), $8, $9
       FROM jsonb_to_recordset($6::jsonb) AS a(operation_type text, old_value numeric, new_value numeric,
         source text, metadata jsonb)
     )
     UPDATE user_earnings SET
       total_earned = $2::numeric,
       current_earnings = $3::numeric,
       pending_review = $4::numeric,
       updated_at = ${msToTimestamp('$5')}
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
      item.client_id,
      item.op_id,
    ],
  );
  return stored;
}
