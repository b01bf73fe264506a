// Load for the server suite's concurrency and topology tests: seeded batches for many users and
// clients, sent with every batch raced by its retry, server processes (child-server.js) set up
// for it, and the invariants of ARCHITECTURE.md checked in the database afterwards.
import assert from 'node:assert/strict';

import { startChildServer } from './child-server.js';
import { HOUR_MS, START_MS, call, contiguousOps, dev, formatUnits, ledger, units } from './helpers.js';

// A fixed pseudo-random sequence (mulberry32) so every run sends the same amounts.
export function seeded(seed) {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

// Runs the tasks with at most `limit` in flight.
async function bounded(tasks, limit) {
  const results = new Array(tasks.length);
  let next = 0;
  const worker = async () => {
    while (next < tasks.length) {
      const index = next;
      next += 1;
      results[index] = await tasks[index]();
    }
  };
  await Promise.all(Array.from({ length: Math.min(limit, tasks.length) }, worker));
  return results;
}

// Plans `batches` batches per (user, client); amounts in units, windows back to back.
export function plan({ users, clients, batches, opsPerBatch, firstUser, random }) {
  const work = [];
  for (let u = 0; u < users; u += 1) {
    for (let c = 0; c < clients; c += 1) {
      const clientId = `c${c}-${(random() * 1e9).toFixed(0)}`;
      const sequence = [];
      for (let b = 0; b < batches; b += 1) {
        const amounts = Array.from({ length: opsPerBatch }, () => formatUnits(BigInt(1 + Math.floor(random() * 2_000_000))));
        const fromMs = START_MS + b * 60_000;
        sequence.push(contiguousOps(clientId, b * opsPerBatch + 1, amounts, { fromMs, toMs: fromMs + 60_000 }));
      }
      work.push({ userId: firstUser + u, clientId, sequence });
    }
  }
  return work;
}

// Sends each client's batches in order, every batch twice at the same moment (a retry racing
// the original), while all clients of all users run at once. Copy `c` of the batch of work item
// `i` goes to urls[(i + c) % urls.length]. With `resend`, a copy that gets no answer or a 5xx
// (a process going away behind a balancer) is sent again until answered, as a client does; its
// answer is then marked `resent`. `onAnswered(count)` hears the number of batches answered.
export async function runClients(urls, work, { resend = false, onAnswered = () => {} } = {}) {
  const answers = [];
  const send = async (url, userId, body) => {
    for (let attempt = 1; ; attempt += 1) {
      let answer;
      try {
        answer = await call(url, '/v1/sync', { method: 'POST', auth: dev(userId), body });
      } catch (error) {
        answer = { status: 0, text: String(error) };
      }
      if (!resend || (answer.status !== 0 && answer.status < 500) || attempt === 100) return { ...answer, resent: attempt > 1 };
      await new Promise((resolve) => setTimeout(resolve, 20));
    }
  };
  await bounded(
    work.map(({ userId, clientId, sequence }, index) => async () => {
      for (const ops of sequence) {
        // Sent as today's clients send (with `lease`): a pre-lease client's partly refused op is
        // answered `duplicate` (server/sync-service.js resultsFor), which the exactly-once count
        // below could not tell from a resend.
        const body = { clientId, ops, lease: 'hold' };
        const copies = await Promise.all([0, 1].map((copy) => send(urls[(index + copy) % urls.length], userId, body)));
        for (const copy of copies) assert.equal(copy.status, 200, copy.text);
        answers.push({ userId, ops, copies });
        onAnswered(answers.length);
      }
    }),
    24,
  );
  return answers;
}

export async function checkInvariants(db, work, answers, { boundMs }) {
  for (const { copies } of answers) {
    // Exactly once: of two racing copies, each op was fresh in exactly one (in at most one when
    // a copy was resent: the answer to the send that counted may have been lost).
    const fresh = copies.map((c) => c.json.results.filter((r) => r.status !== 'duplicate').length);
    const answeredFresh = fresh.filter((n) => n > 0).length;
    if (copies.some((c) => c.resent)) assert.ok(answeredFresh <= 1, `fresh counts ${fresh}`);
    else assert.equal(answeredFresh, 1, `fresh counts ${fresh}`);
  }
  const byUser = new Map();
  for (const { userId, sequence } of work) {
    const claimed = sequence.flat().reduce((sum, op) => sum + units(op.amount), 0n);
    byUser.set(userId, (byUser.get(userId) ?? 0n) + claimed);
  }
  for (const [userId, claimed] of byUser) {
    const money = await ledger(db, userId);
    // Conservation.
    assert.equal(money.total_earned, money.audit_credits, `user ${userId}: audit`);
    assert.equal(units(money.total_earned), units(money.credited_ops), `user ${userId}: credited ops`);
    // Nothing lost, nothing doubled, nothing from another user (isolation). The clients of a user
    // claim the same minutes, so what one was paid is refused to the others (counted on another
    // device).
    assert.equal(units(money.total_earned) + units(money.pending_review) + units(money.refused_ops), claimed, `user ${userId}: claimed`);
    // Bound: the default 1 TON/h over the time the server saw, plus tolerance.
    assert.ok(units(money.total_earned) <= (100000000n * BigInt(boundMs)) / BigInt(HOUR_MS), `user ${userId}: bound`);
  }
  const [{ n }] = await db.query(
    `SELECT COUNT(*)::int AS n FROM (SELECT user_id, client_id, seq FROM sync_op_results
       GROUP BY user_id, client_id, seq HAVING COUNT(*) > 1) AS doubled`,
  );
  assert.equal(n, 0);
}

// `node server/main.js` children on `databaseUrl` (`env` added), at the rate checkInvariants bounds
// credits by (1 TON/h) and without the per-user request limit, which this load is far past.
// Resolves with { servers, stop() } once all listen; stop() ends them and waits.
export async function startLoadServers(databaseUrl, envs) {
  const started = await Promise.allSettled(
    envs.map((env) => startLoadServer(databaseUrl, env)),
  );
  const servers = started.filter((r) => r.status === 'fulfilled').map((r) => r.value);
  const stop = () => Promise.all(servers.map(stopServer));
  const failed = started.find((r) => r.status === 'rejected');
  if (failed) {
    await stop();
    throw failed.reason;
  }
  return { servers, stop };
}

export function startLoadServer(databaseUrl, env = {}) {
  return startChildServer({ DATABASE_URL: databaseUrl, DEFAULT_RATE_PER_HOUR: '1.00000000', USER_REQUESTS_PER_S: '0', ...env });
}

export async function stopServer({ child, exited }) {
  if (child.exitCode === null && child.signalCode === null) child.kill('SIGTERM');
  await exited;
}
