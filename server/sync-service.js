// Sync and state answers. A sync is planned by the core's planCredit (the same rules as the
// client, compiled to wasm) on the user's row, and written back by one atomic statement that
// locks the row and applies the plan only if the row is still the one planned on; syncs of
// different users arriving together share that statement (commit-groups.js). Nothing here computes money: amounts pass through as
// decimal strings from the database to the core and back.
import { createCommitGroups } from './commit-groups.js';
import {
  ensureUsers,
  firstContactRow,
  leaseAnswer,
  lockReviewItem,
  lockStatements,
  lockUser,
  previousResults,
  readRows,
  recordRefusedSyncs,
  reviewOwner,
  userCounts,
  stateAnswer,
  writePlans,
  writeRateChange,
  writeReviewDecision,
} from './earnings-store.js';
import { amountUnits } from './config.js';
import { ServerError, requestInvalid } from './errors.js';
import { RowCache } from './row-cache.js';
import { shardMap } from './shards.js';

// The HTTP layer has already refused non-objects; the client id is checked here, by the core's
// rule (core.contract.clientId), because it is a key the row lock needs before the core sees the
// request. Everything else about the shape is the core's job.
function requireClientId(core, clientId) {
  if (!core.isClientId(clientId)) throw requestInvalid(core.contract.clientId.message);
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
    status: result.status,
    credited: result.credited ?? '0',
    review: result.review ?? '0',
    refused: result.refused ?? null,
    code: result.code ?? null,
    reason: result.reason ?? null,
  };
}

// A duplicate answers what the op got the first time, when the server still has it: what was
// credited, queued and refused as counted on another device (with its code and reason).
function answerDuplicate(result, previous) {
  if (!previous) return result;
  const answer = { ...result, credited: previous.credited, review: previous.review };
  if (previous.refused !== null && previous.refused !== undefined) {
    Object.assign(answer, { refused: previous.refused, code: previous.code, reason: previous.reason });
  }
  return answer;
}

// Time counted on another device of the user is an outcome of honest use, not a failed attempt.
const COUNTED_ON_ANOTHER_DEVICE = 'COUNTED_ON_ANOTHER_DEVICE';
const failedOp = (result) => result.status === 'rejected' && result.code !== COUNTED_ON_ANOTHER_DEVICE;

const FRESH = new Set(['applied', 'review', 'rejected']);

// The results in the shape the requesting client reads; what is stored and counted is never
// reshaped. Whether it reads per-op `refused` is told by the request's `lease` member (checked by
// the core's request parser): every client since the mining lease sends it on every sync and reads
// `refused` (both came in one release), and clients before it send neither. A version member of its
// own was dropped: a server from before it refuses unknown members, so a client upgraded before
// its server would have had every op refused for good. A client without `lease` knows no per-op
// `refused`: an op partly counted on another device would read there as credited + review short of
// its amount, a conflict. It is answered `duplicate` with what was credited and queued, that
// client's one answer that settles an op for less than its amount without a conflict: its balance
// is the server's row, which holds the other device's credit for the time, so nothing is lost or
// counted twice, and the time was indeed counted already. An op wholly counted elsewhere stays
// `rejected` with its code, which that client reads as a rejection (without the `refused` member
// it does not know).
function resultsFor(readsRefused, results) {
  if (readsRefused) return results;
  return results.map((result) => {
    if (result.refused === undefined) return result;
    if (result.status === 'rejected') {
      const { refused, ...rejected } = result;
      return rejected;
    }
    return { id: result.id, seq: result.seq, status: 'duplicate', credited: result.credited, review: result.review };
  });
}

// How long a client refused by a per-user cap waits before trying again: a pending review waits
// for an operator, and a client id slot for an operator too, so retrying sooner only adds load.
const CAP_RETRY_AFTER_S = 300;

const AGAIN = Object.freeze({ again: true });

// One sync on its way through a commit group (leveldb's Writer): what arrived, an early plan,
// and, per attempt, the row it is planned on, the plan, the answers, the write and the outcome
// commit-groups.js hands back ({ value }, { error } or { again }). A sync sent back (`again`) or
// retried alone after its group failed starts its next attempt afresh (begin()).
class PendingSync {
  constructor(userId, clientId, body) {
    this.userId = userId;
    this.clientId = clientId;
    this.body = body;
    // { row, plan } or { row, error }: planned on arrival on the row this process last wrote.
    this.early = null;
    this.begin();
  }

  begin() {
    this.row = undefined;
    this.rowRemembered = false;
    this.plan = null;
    this.results = null;
    this.write = null;
    this.outcome = undefined;
  }
}

// Refused syncs reach their users' rows a statement at a time: while one write is in flight, the
// refusals after it gather (one entry per user) and go in the next, so a flood of bad requests
// costs the database one statement per round trip, not one per request. Entries wait in memory
// only during one write; past REFUSALS_WAITING_LIMIT users at once, a refusal is answered without
// being counted (the count is a diagnosis, never money).
const REFUSALS_WAITING_LIMIT = 10_000;

function createRefusalLog(db) {
  let waiting = new Map();
  let writing = null;
  async function writeAll() {
    while (waiting.size > 0) {
      const batch = waiting;
      waiting = new Map();
      await recordRefusedSyncs(db, batch);
    }
  }
  return {
    // Resolves once this refusal is on the user's row.
    note(userId, nowMs) {
      const entry = waiting.get(userId);
      if (entry) {
        entry.count += 1;
        entry.lastMs = Math.max(entry.lastMs, nowMs);
      } else if (waiting.size < REFUSALS_WAITING_LIMIT) {
        waiting.set(userId, { count: 1, lastMs: nowMs });
      }
      writing ??= writeAll().finally(() => {
        writing = null;
      });
      return writing;
    },
  };
}

const creditConfigOf = (config) => ({
  offlineCapMs: config.offlineCapMs,
  toleranceMs: config.toleranceMs,
  maxRatePerHour: config.maxRatePerHour,
  maxBatch: config.maxBatch,
  leaseMs: config.miningLeaseMs,
});

const MAX_NOTE_CHARS = 1000;

// Changes a user's rate from the server's now on (the app's backend: PUT
// /v1/admin/users/:userId/rate, or setUserRate): the core settles the old rate's budget up to now
// (plan_rate_change), and the row and a 'rate_change' audit row (source 'admin') are written under
// the user's row lock. A user the server has not seen yet gets a row, as on first contact (its
// budget starts now). Returns the user's state as a client is told it.
// RATE_INVALID unless 0 < rate <= MAX_RATE_PER_HOUR; nothing is written then.
export async function changeUserRate({ db, core, config }, userId, rate, { note = null } = {}) {
  if (!Number.isSafeInteger(userId) || userId <= 0) {
    throw new ServerError('USER_ID_INVALID', 'userId must be a positive safe integer', 400);
  }
  if (typeof rate !== 'string') throw new ServerError('RATE_INVALID', 'rate must be a decimal string such as "2.5"', 422);
  if (note !== null && (typeof note !== 'string' || note.length > MAX_NOTE_CHARS || note.includes('\0'))) {
    throw requestInvalid(`note must be a string of at most ${MAX_NOTE_CHARS} characters, without NUL`);
  }
  const serverNow = config.now();
  const row = await db.transaction(
    async (tx, opened) => {
      const before = await lockUser(tx, opened, { userId, clientId: null, nowMs: serverNow, defaultRatePerHour: config.defaultRatePerHour });
      let change;
      try {
        change = core.planRateChange({ row: before, rate, serverNow, config: creditConfigOf(config) });
      } catch (error) {
        throw planError(error);
      }
      return writeRateChange(tx, { userId, before, change, note, nowMs: serverNow });
    },
    { opening: lockStatements(userId, null) },
  );
  return { state: stateAnswer(row, creditedRate(row, config)), serverTime: serverNow };
}

// The rate the server credits `row` at, and so the one a client is told: a row's rate above
// MAX_RATE_PER_HOUR (set before the cap was lowered, or by SQL) is credited at the cap.
function creditedRate(row, config) {
  return amountUnits(row.baseEarningRate) > amountUnits(config.maxRatePerHour) ? config.maxRatePerHour : row.baseEarningRate;
}

export function createSyncService({ db, core, config, metrics }) {
  const creditConfig = creditConfigOf(config);
  const rowCache = new RowCache();

  // The core's crediting plan for a sync on `row`: { row, plan }, or { row, error } refusing it.
  function planOn(sync, row, serverNow) {
    try {
      return { row, plan: core.planCredit({ row, request: sync.body, serverNow, config: creditConfig }) };
    } catch (error) {
      return { row, error: planError(error) };
    }
  }

  // Creates the rows of users this process has not seen. A refused sync writes nothing, not even
  // the row its user would get on first contact, so a newcomer's sync is first checked against
  // that row (request errors do not depend on it) and a refused one gets its outcome here.
  async function admitNewcomers(syncs, serverNow) {
    const newcomers = [];
    for (const sync of syncs) {
      if (rowCache.exists(sync.userId)) continue;
      const trial = planOn(sync, firstContactRow(sync.userId, serverNow, config.defaultRatePerHour), serverNow);
      if (trial.error) sync.outcome = { error: trial.error };
      else newcomers.push(sync.userId);
    }
    if (newcomers.length === 0) return;
    await ensureUsers(db, newcomers, { nowMs: serverNow, defaultRatePerHour: config.defaultRatePerHour });
    rowCache.markExisting(newcomers);
  }

  // Each sync's row: as this process last wrote it, or read now (one statement for all).
  async function findRows(syncs) {
    const unread = [];
    for (const sync of syncs) {
      sync.row = rowCache.rowFor(sync.userId, sync.clientId);
      sync.rowRemembered = sync.row !== undefined;
      if (!sync.rowRemembered) unread.push(sync);
    }
    if (unread.length === 0) return;
    const read = await readRows(db, unread);
    unread.forEach((sync, i) => {
      sync.row = read[i];
    });
  }

  // Each sync's plan on its row; the early plan when it was made on that very row.
  function planAll(syncs, serverNow) {
    for (const sync of syncs) {
      if (sync.row === undefined) {
        // Its row went away after this process created it (an emptied table): create it again.
        rowCache.forget(sync.userId);
        sync.outcome = AGAIN;
        continue;
      }
      const planned = sync.early?.row === sync.row ? sync.early : planOn(sync, sync.row, serverNow);
      if (planned.error) sync.outcome = { error: planned.error };
      else sync.plan = planned.plan;
    }
  }

  // A plan that would queue review items past the user's cap, or add a client id past the cap on
  // client ids, is replaced by a refusal of the whole sync: nothing is written, and the client
  // keeps the ops and sends them again later (429 with Retry-After), so none are lost. The counts
  // are read after the rows: a write that changed a user's row since (new items, a new client)
  // bumped its revision, so this plan fails its revision check and is planned again on new counts.
  // Only plans that queue reviews or open a client pay for the read.
  async function refuseOverCaps(syncs) {
    const opensClient = (sync) => sync.row.lastSeq === 0 && sync.plan.row.lastSeq > 0;
    const checked = syncs.filter((sync) => sync.plan && (sync.plan.reviews.length > 0 || opensClient(sync)));
    if (checked.length === 0) return;
    const counts = await userCounts(db, [...new Set(checked.map((sync) => sync.userId))]);
    for (const sync of checked) {
      const { pendingReviews, clients } = counts.get(sync.userId);
      const queued = sync.plan.reviews.length;
      let error = null;
      if (queued > 0 && pendingReviews + queued > config.maxPendingReviews) {
        error = new ServerError(
          'REVIEW_QUEUE_FULL',
          `${pendingReviews} items of this user already wait for review (at most ${config.maxPendingReviews}); ` +
            'the ops are kept and accepted once reviews are decided',
          429,
          { retryAfterS: CAP_RETRY_AFTER_S },
        );
      } else if (opensClient(sync) && clients >= config.maxClientsPerUser) {
        error = new ServerError(
          'TOO_MANY_CLIENTS',
          `this user already syncs from ${clients} client ids (at most ${config.maxClientsPerUser}); the ops are kept`,
          429,
          { retryAfterS: CAP_RETRY_AFTER_S },
        );
      }
      if (error) {
        sync.plan = null;
        sync.outcome = { error };
      }
    }
  }

  // Each planned sync's answers (a duplicate gets what it got the first time) and, when it has
  // fresh ones, what writePlans is to store for it.
  async function prepareWrites(syncs) {
    const resent = syncs.flatMap(({ userId, clientId, plan }) =>
      plan.results.filter((r) => r.status === 'duplicate').map((r) => ({ userId, clientId, seq: r.seq })),
    );
    const previous = await previousResults(db, resent);
    for (const sync of syncs) {
      const { userId, clientId, plan } = sync;
      sync.results = plan.results.map((r) =>
        r.status === 'duplicate' ? answerDuplicate(r, previous.get(`${userId}:${r.seq}`)) : r,
      );
      // Only duplicates and gaps, and the lease as it was: nothing to record, not even a new
      // last_update.
      const fresh = sync.results.filter((r) => FRESH.has(r.status));
      if (fresh.length === 0 && !plan.leaseChanged) continue;
      sync.write = {
        userId,
        clientId,
        revision: sync.row.revision,
        row: plan.row,
        opResults: fresh.map(opResultRow),
        audit: plan.audit,
        reviews: plan.reviews,
        failed: fresh.length > 0 && fresh.every(failedOp),
      };
    }
  }

  // Plans each sync on its row and writes every plan in one statement. A sync whose row changed
  // since is answered `again`: read and planned anew in a later group. So is one planned on a
  // remembered row that has nothing to write, since its answer must show the row as it is now.
  async function credit(syncs, serverNow) {
    await findRows(syncs);
    planAll(syncs, serverNow);
    await refuseOverCaps(syncs);
    const planned = syncs.filter((sync) => sync.plan);
    await prepareWrites(planned);
    const writes = planned.filter((sync) => sync.write).map((sync) => sync.write);
    const stored = writes.length > 0 ? await writePlans(db, serverNow, writes) : new Map();
    let committed = 0;
    for (const sync of planned) {
      const row = sync.write ? stored.get(sync.userId) : sync.rowRemembered ? undefined : sync.row;
      if (row === undefined) {
        rowCache.forgetRow(sync.userId);
        sync.outcome = AGAIN;
        continue;
      }
      if (sync.write) {
        committed += 1;
        rowCache.rememberWritten(sync.userId, sync.clientId, row);
      }
      sync.outcome = {
        value: {
          response: {
            results: sync.results,
            state: stateAnswer(row, creditedRate(row, config)),
            serverTime: serverNow,
            lease: sync.plan.lease,
          },
          queued: sync.write ? sync.plan.reviews.length : 0,
        },
      };
    }
    if (committed > 0) metrics.commitGroupSize.observe(committed);
  }

  async function commitGroup(syncs) {
    const serverNow = config.now();
    for (const sync of syncs) sync.begin();
    await admitNewcomers(syncs, serverNow);
    const admitted = syncs.filter((sync) => sync.outcome === undefined);
    if (admitted.length > 0) await credit(admitted, serverNow);
    return syncs.map((sync) => sync.outcome);
  }

  const groups = createCommitGroups({
    commit: commitGroup,
    maxInFlight: config.commitGroups,
    maxSize: config.commitGroupSize,
    shardOf: shardMap(config.shardCount ?? 0),
    onWaiting: (count) => metrics.syncsWaiting.set(count),
  });

  const refusals = createRefusalLog(db);

  // A sync the server refuses (4xx: the request is wrong) is a failed attempt on its user's row,
  // written before the refusal is answered, so what an operator reads is never behind the answers.
  // If the database cannot take the count, the answer is that failure (5xx: the client sends
  // again and is refused then), as for any sync the database could not serve.
  async function sync(userId, body) {
    try {
      return await submitSync(userId, body);
    } catch (error) {
      if (error instanceof ServerError && error.status < 500) await refusals.note(userId, config.now());
      throw error;
    }
  }

  async function submitSync(userId, body) {
    const pending = new PendingSync(userId, requireClientId(core, body.clientId), body);
    // A sync whose row this process wrote last is planned now, while the database writes other
    // groups, rather than on its group's critical path; its group reuses the plan if that row is
    // still current (the write checks the revision anyway). Request errors do not depend on the
    // row, so a refused sync never waits for a group.
    const remembered = rowCache.rowFor(userId, pending.clientId);
    if (remembered !== undefined) {
      pending.early = planOn(pending, remembered, config.now());
      if (pending.early.error) throw pending.early.error;
    }
    const { response, queued } = await groups.submit(pending);
    // Counted after COMMIT, so the metrics never include a batch that rolled back.
    for (const result of response.results) {
      metrics.syncOps.inc({ status: result.status });
      if (result.status === 'rejected' || result.refused !== undefined) metrics.rejections.inc({ code: result.code ?? 'UNKNOWN' });
    }
    if (queued > 0) metrics.reviews.inc({ event: 'queued' }, queued);
    return { ...response, results: resultsFor(body.lease !== undefined, response.results) };
  }

  async function state(userId, clientId) {
    requireClientId(core, clientId);
    const serverNow = config.now();
    // Reading the state is the app's first contact on open: creating the row here starts the
    // server's budget clock before the first sync arrives.
    const row = await db.transaction(
      (tx, opened) => lockUser(tx, opened, { userId, clientId, nowMs: serverNow, defaultRatePerHour: config.defaultRatePerHour }),
      { opening: lockStatements(userId, clientId) },
    );
    return { state: stateAnswer(row, creditedRate(row, config)), serverTime: serverNow, lease: leaseAnswer(row, clientId, serverNow) };
  }

  // Approving credits the amount once; rejecting only takes it out of pending review. The second
  // decision on an item is REVIEW_DECIDED and changes nothing. An item is addressed by its user
  // and id; `userId` null is the old address by id alone, whose owner is looked up first.
  async function decideReview({ userId = null, id }, { approve, note }) {
    const serverNow = config.now();
    const owner = userId ?? (await reviewOwner(db, id));
    const notFound = () => new ServerError('NOT_FOUND', `review ${owner ?? '?'}:${id} does not exist`, 404);
    if (owner === null) throw notFound();
    const decision = await db.transaction(
      async (tx, opened) => {
        // No row, no item: a decision never creates a user.
        if (opened[0].length === 0) throw notFound();
        const row = await lockUser(tx, opened, { userId: owner, clientId: null, nowMs: serverNow, defaultRatePerHour: config.defaultRatePerHour });
        const item = await lockReviewItem(tx, owner, id);
        if (item === null) throw notFound();
        if (item.status !== 'pending') {
          throw new ServerError('REVIEW_DECIDED', `review ${owner}:${id} was already ${item.status}`, 409);
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
          userId: owner,
          opId: item.op_id,
          status: plan.status,
          amount: item.amount,
          totalEarned: stored.total_earned,
          pendingReview: stored.pending_review,
        };
      },
      { opening: lockStatements(owner, null) },
    );
    metrics.reviews.inc({ event: decision.status });
    return decision;
  }

  // This process's remembered row of the user is stale from now on; another process finds out
  // from the row's revision when its write is refused.
  async function setUserRate(userId, rate, options) {
    const answer = await changeUserRate({ db, core, config }, userId, rate, options);
    rowCache.forgetRow(userId);
    return answer;
  }

  return { sync, state, decideReview, setUserRate };
}
