// Sync and state answers: one transaction per request with the user's row locked, the crediting
// decision taken by the core's planCredit (the same rules as the client, compiled to wasm), and
// the decision written back atomically. Nothing here computes money: amounts pass through as
// decimal strings from the database to the core and back.
import { ServerError, requestInvalid } from './errors.js';
import {
  lockReviewItem,
  lockStatements,
  lockUser,
  previousResults,
  reviewOwner,
  stateAnswer,
  writePlan,
  writeReviewDecision,
} from './earnings-store.js';

const CLIENT_ID = /^[A-Za-z0-9_-]{1,64}$/;

// The HTTP layer has already refused non-objects; the client id is checked here because it is a
// key the row lock needs before the core sees the request. Everything else about the shape is
// the core's job.
export function requireClientId(clientId) {
  if (typeof clientId !== 'string' || !CLIENT_ID.test(clientId)) {
    throw requestInvalid('clientId must be 1 to 64 characters of [A-Za-z0-9_-]');
  }
  return clientId;
}

// Core errors that mean "this request is wrong" are the client's fault (4xx, permanent); any
// other failure inside planCredit is ours.
function planError(error) {
  if (typeof error?.code === 'string' && error.code !== 'INTERNAL') {
    return new ServerError(error.code, error.message, error.code === 'REQUEST_INVALID' ? 400 : 422);
  }
  return error;
}

function opResultRow(result) {
  return {
    seq: result.seq,
    op_id: result.id,
    status: result.status,
    credited: result.credited ?? '0',
    review: result.review ?? '0',
    code: result.code ?? null,
    reason: result.reason ?? null,
  };
}

// A duplicate answers what the op got the first time, when the server still has it.
function answerDuplicate(result, previous) {
  return previous ? { ...result, credited: previous.credited, review: previous.review } : result;
}

const FRESH = new Set(['applied', 'review', 'rejected']);

export function createSyncService({ db, core, config, metrics }) {
  const creditConfig = {
    offlineCapMs: config.offlineCapMs,
    toleranceMs: config.toleranceMs,
    maxRatePerHour: config.maxRatePerHour,
    maxBatch: config.maxBatch,
  };

  async function sync(userId, body) {
    const clientId = requireClientId(body.clientId);
    const serverNow = config.now();
    const { response, queued } = await db.transaction(async (tx, opened) => {
      const row = await lockUser(tx, opened, { userId, clientId, nowMs: serverNow, defaultRatePerHour: config.defaultRatePerHour });
      let plan;
      try {
        plan = core.planCredit({ row, request: body, serverNow, config: creditConfig });
      } catch (error) {
        throw planError(error);
      }
      const duplicates = plan.results.filter((r) => r.status === 'duplicate').map((r) => r.seq);
      const previous = await previousResults(tx, { userId, clientId, seqs: duplicates });
      const results = plan.results.map((r) => (r.status === 'duplicate' ? answerDuplicate(r, previous.get(r.seq)) : r));
      const fresh = results.filter((r) => FRESH.has(r.status));
      // Only duplicates and gaps: nothing to record, not even a new last_update.
      if (fresh.length === 0) return { response: { results, state: stateAnswer(row), serverTime: serverNow }, queued: 0 };
      const stored = await writePlan(tx, {
        userId,
        clientId,
        nowMs: serverNow,
        row: plan.row,
        lastSeq: plan.row.lastSeq,
        opResults: fresh.map(opResultRow),
        audit: plan.audit,
        reviews: plan.reviews,
      });
      return { response: { results, state: stateAnswer(stored), serverTime: serverNow }, queued: plan.reviews.length };
    }, { opening: lockStatements(userId, clientId) });
    // Counted after COMMIT, so the metrics never include a batch that rolled back.
    for (const result of response.results) {
      metrics.syncOps.inc({ status: result.status });
      if (result.status === 'rejected') metrics.rejections.inc({ code: result.code ?? 'UNKNOWN' });
    }
    if (queued > 0) metrics.reviews.inc({ event: 'queued' }, queued);
    return response;
  }

  async function state(userId, clientId) {
    requireClientId(clientId);
    const serverNow = config.now();
    // Reading the state is the app's first contact on open: creating the row here starts the
    // server's budget clock before the first sync arrives.
    const row = await db.transaction(
      (tx, opened) => lockUser(tx, opened, { userId, clientId, nowMs: serverNow, defaultRatePerHour: config.defaultRatePerHour }),
      { opening: lockStatements(userId, clientId) },
    );
    return { state: stateAnswer(row), serverTime: serverNow };
  }

  // Approving credits the amount once; rejecting only takes it out of pending review. The second
  // decision on an item is REVIEW_DECIDED and changes nothing.
  async function decideReview(id, { approve, note }) {
    const serverNow = config.now();
    const decision = await db.transaction(async (tx) => {
      const userId = await reviewOwner(tx, id);
      if (userId === null) throw new ServerError('NOT_FOUND', `review ${id} does not exist`, 404);
      const opened = (await tx.exec(lockStatements(userId, null))).map((r) => r.rows);
      const row = await lockUser(tx, opened, { userId, clientId: null, nowMs: serverNow, defaultRatePerHour: config.defaultRatePerHour });
      const item = await lockReviewItem(tx, id);
      if (item.status !== 'pending') {
        throw new ServerError('REVIEW_DECIDED', `review ${id} was already ${item.status}`, 409);
      }
      let plan;
      try {
        plan = core.planReviewDecision({
          row,
          item: { id: item.id, amount: item.amount, status: item.status },
          approve,
          serverNow,
        });
      } catch (error) {
        throw planError(error);
      }
      const stored = await writeReviewDecision(tx, {
        item,
        status: plan.status,
        note,
        row: plan.row,
        audit: plan.audit,
        nowMs: serverNow,
      });
      return {
        id: item.id,
        userId,
        opId: item.op_id,
        status: plan.status,
        amount: item.amount,
        totalEarned: stored.total_earned,
        pendingReview: stored.pending_review,
      };
    });
    metrics.reviews.inc({ event: decision.status });
    return decision;
  }

  return { sync, state, decideReview };
}
