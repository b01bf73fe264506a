// One sync exchange of a user's outbox with the sync server (POST /v1/sync), sent when SyncLoop
// says so, and what its answer does.
//
// Contract: the request is taken from the engine and stored (its ops frozen with their ids)
// before it is sent, so a tab killed mid-request resends the same ids; the answer is applied and
// stored before anyone hears of it. Only the sync server's own refusal (its error shape, a
// permanent code, judged by the core) rejects ops; anything else keeps them queued and is
// reported as a transport failure naming the endpoint and status. The server's Retry-After holds
// the loop (SyncLoop.holdFor). A session whose record's earnings are unknown (pending recovery), or
// which has had no answer yet and has nothing to send, asks for the server's row first.
// REQUIRES: `owner` is the EarningsManager (transport, clock, events, serverRecovery, persist,
// setContact, shownState, takeEngineEvents, forwardEngineEvent, broadcast, notify); send() runs
// outside the session's queue and takes it for engine and storage work only.
import { ClientError, ClientErrorCode } from './client-errors.js';
import { contactAfterFailure, parseJson } from './server-recovery.js';

export class SyncExchange {
  constructor(owner) {
    this.owner = owner;
  }

  async send(session, { keepalive }) {
    if (session.pendingRecovery) await this.owner.serverRecovery.recover(session).catch(() => false);
    const request = await session.run(async () => {
      const now = this.owner.now();
      session.engine.tick(now);
      this.owner.takeEngineEvents(session);
      const next = session.engine.nextSyncRequest(now, { force: true });
      if (next) await this.owner.persist(session);
      // What this device asks of the user's mining lease rides on every sync; with no ops owed,
      // a sync is still sent when the lease needs one (a start or stop to tell, or waiting while
      // another device mines: the answer brings its balance and whether the lease lapsed).
      // The `lease` member also tells the server this client reads per-op `refused`
      // (server/sync-service.js, resultsFor); no member beyond those a server since the lease
      // accepts, so a client upgraded before its server keeps syncing.
      const lease = session.lease.intent(session.engine.state().isActive);
      if (next) return { ...next, lease };
      return session.lease.needsSync() ? { clientId: session.engine.clientId(), ops: [], lease } : null;
    });
    if (!request) {
      // Nothing owed: still, a status is only true once the server answered this session.
      if (session.contact !== 'online') await this.owner.serverRecovery.recover(session).catch(() => false);
      return session.contact === 'online'
        ? { status: 'synced', state: this.owner.shownState(session), results: [] }
        : { status: 'failed', state: this.owner.shownState(session), results: [] };
    }
    session.requestSent();
    const reply = await this.owner.transport.sync(request, { keepalive, userId: session.userId });
    return session.run(async () => {
      const now = this.owner.now();
      const body = reply.status === 200 ? parseJson(reply.text) : null;
      let outcome;
      // The server's rate wins over the one the app set (setMining): an answer may bring the rate
      // the app's backend gave the user, which the engine accrues at from here on.
      const rateBefore = session.engine.state().baseEarningRate;
      if (body) {
        try {
          // The core reads the answer as it arrived (exact integers, a repeated key refused), not
          // as JSON.parse left it.
          const applied = session.engine.applySyncResponse(reply.text, now);
          outcome = { status: 'synced', results: body.results, events: applied?.events ?? [] };
          session.contact = 'online';
          this.followLease(session, body, request.lease, now);
        } catch (error) {
          const { events, ...failure } = session.engine.applySyncFailure({ status: 0 }, now);
          outcome = { status: 'failed', error: { code: error.code, message: error.message }, ...failure, events: events ?? [] };
        }
      } else {
        // The core decides from the answer as it arrived: only the sync server's own refusal
        // (its error shape, a permanent code) rejects the ops; anything else keeps them.
        const { events, permanent, code, message, ...failure } = session.engine.applySyncFailure(
          { status: reply.status, body: reply.text ?? '' }, now);
        session.syncLoop.holdFor(reply.retryAfterMs);
        const error = reply.status === 0
          ? { code: ClientErrorCode.NETWORK, message: reply.error ?? 'network failure' }
          : { code: code ?? `HTTP_${reply.status}`, message: message ?? (reply.text ?? '').slice(0, 200) };
        outcome = { status: 'failed', httpStatus: reply.status, error, permanent, ...failure, events: events ?? [] };
        if (reply.retryAfterMs > 0) outcome.retryInMs = Math.max(outcome.retryInMs ?? 0, reply.retryAfterMs);
      }
      await this.owner.persist(session);
      if (outcome.status === 'failed') {
        this.owner.setContact(session, contactAfterFailure(reply.status, outcome.permanent), {
          endpoint: reply.url ?? null, httpStatus: reply.status, code: outcome.error.code, message: outcome.error.message,
        });
      }
      outcome.state = this.owner.shownState(session);
      this.owner.events.emit('sync', { userId: session.userId, ...outcome });
      if (outcome.status === 'failed' && !outcome.permanent) this.transportFailed(session, reply, outcome.error);
      if (outcome.state.baseEarningRate !== rateBefore) {
        this.owner.events.emit('rate-changed', { userId: session.userId, previousRate: rateBefore, rate: outcome.state.baseEarningRate });
      }
      for (const event of outcome.events ?? []) this.owner.forwardEngineEvent(session, event);
      // The part of an applied op counted on another device of the user: the core put it in the
      // state's rejectedTotal and its audit; it is told like any rejection. Raised here rather than
      // by the core: it was written when the client module had no room for another event.
      if (outcome.status === 'synced') {
        // (A wholly rejected op is told by the core's own `rejected` event.)
        for (const { id, status, refused, code, reason } of outcome.results) {
          if (refused !== undefined && status !== 'rejected') {
            this.owner.events.emit('rejected', { userId: session.userId, id, amount: refused, code, reason });
          }
        }
      }
      this.owner.broadcast(session);
      this.owner.notify(session);
      return outcome;
    });
  }

  // Another device holding the user's mining lease stops accrual here until it lapses or the app
  // starts mining here again; this device holding it again resumes (MiningLease).
  followLease(session, body, sent, now) {
    const { engine } = session;
    const action = session.lease.answered(body.lease, sent, engine.state().isActive);
    if (action === 'pause') {
      engine.setActive(false, now);
      this.owner.events.emit('mining-elsewhere', { userId: session.userId, ...session.lease.elsewhere });
    } else if (action === 'resume') {
      engine.setActive(true, now);
      this.owner.events.emit('mining-resumed', { userId: session.userId });
    }
  }

  // No answer in the sync protocol (network down, a wrong endpoint's 404, a static host's HTML,
  // a redirect, 5xx): the ops stay queued and are retried; the app hears where and what.
  transportFailed(session, reply, error) {
    const endpoint = reply.url ?? null;
    const where = endpoint ?? 'the sync server';
    // A 2xx that is not the protocol is a static host or an app's page fallback answering for the
    // sync server's path: "HTTP 200" alone reads like a success.
    const what = reply.status === 0 ? `could not be reached (${error.message})`
      : reply.status >= 200 && reply.status < 300 ? `answered HTTP ${reply.status} with a body that is not the sync protocol's (a static host or a page fallback?)`
        : `answered HTTP ${reply.status} (${error.code})`;
    this.owner.events.emit('error', {
      userId: session.userId,
      source: 'sync',
      endpoint,
      httpStatus: reply.status,
      error: new ClientError(error.code, `${where} ${what}; earnings stay queued and are retried`),
    });
  }
}
