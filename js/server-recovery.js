// Bringing a user's session in line with the sync server's row (GET /v1/state), and what that
// exchange says about the session's contact with the server.
//
// Contract: the server's row wins; local, unacknowledged earnings are rebased on it by the core
// (recoverFromServer), nothing local is dropped, and the rebased record is stored before the app
// hears of the change. No answer in the protocol moves the contact to unreachable / unauthorized
// and is reported with the endpoint and status; the session's pending recovery stays, so the next
// sync tries again. An answer to adopt() that comes after its timeout is applied like a timely one
// (the catch-up judged, the contact moved, events raised), unless a request sent after it
// superseded it. A row that rebuilds a record after the app was told it was not recovered is told
// as `recovered` with `after` (the session's pendingRecovery: 'storage-lost' or 'corruption').
// REQUIRES: `owner` is the EarningsManager (transport, timers,
// initialStateTimeoutMs, setContact, syncExchange, persist, forwardEngineEvent, changed).
import { ClientErrorCode } from './client-errors.js';

// What this page session knows of the sync server (the state's syncStatus until an exchange
// succeeded): 'connecting' before any answer, then 'online' after an answer in the protocol, or
// why not. Only 'online' lets the core's own status (synced / pending / failed) show.
export const CONTACT_EVENTS = new Set(['unreachable', 'unauthorized', 'refused']);

export function contactAfterFailure(status, permanent) {
  if (permanent) return 'refused';
  return status === 401 || status === 403 ? 'unauthorized' : 'unreachable';
}

export function parseJson(text) {
  try {
    return JSON.parse(text);
  } catch {
    return null;
  }
}

export class ServerRecovery {
  constructor(owner) {
    this.owner = owner;
  }

  // A user new to this device starts from the server's row (total, rate, mining on or off: the
  // server owns them) before the app changes anything. A server that does not answer in time is
  // not waited for: its answer is applied when it comes, as long as nothing newer superseded it.
  async adopt(session) {
    const start = { late: false };
    let timer;
    const timeout = new Promise((resolve) => {
      timer = this.owner.timers.setTimeout(() => resolve(false), this.owner.initialStateTimeoutMs);
    });
    const recovery = this.recover(session, { start }).catch(() => false);
    const recovered = await Promise.race([recovery, timeout]);
    this.owner.timers.clearTimeout(timer);
    start.late = true;
    return recovered;
  }

  async recover(session, { start = null } = {}) {
    const sent = session.requestSent();
    // A late start answer is superseded once another request went out after it: that request's
    // answer (applied or still coming) is newer, and the row this one carries may already hold ops
    // that request sent, which the outbox still counts as owed until its answer: applying the row
    // now would count them twice. Nothing of a superseded answer is applied or told.
    const superseded = () => start?.late === true && session.requestsSent !== sent;
    const reply = await this.owner.transport.fetchState(session.clientId, { userId: session.userId });
    if (superseded()) return false;
    const body = reply.status === 200 ? parseJson(reply.text) : null;
    if (!body?.state) {
      const error = parseJson(reply.text)?.error;
      const failure = {
        code: reply.status === 0 ? ClientErrorCode.NETWORK : typeof error?.code === 'string' ? error.code : `HTTP_${reply.status}`,
        message: reply.error ?? (typeof error?.message === 'string' ? error.message : (reply.text ?? '').slice(0, 200)),
      };
      this.owner.setContact(session, contactAfterFailure(reply.status, false), {
        endpoint: reply.url ?? null, httpStatus: reply.status, ...failure,
      });
      this.owner.syncExchange.transportFailed(session, reply, failure);
      return false;
    }
    return session.run(async () => {
      // The queue may have let a sync go out meanwhile, or the session closed (no engine).
      if (superseded() || session.engine === null) return false;
      const events = session.engine.recoverFromServer(reply.text, this.owner.now()).events ?? [];
      // The app was told a record did not restore and was not recovered (storage-lost,
      // corruption): it hears that this row rebuilt it as `recovered` with `after`, also when the
      // engine rebased the row on what the session counted meanwhile and raised no `recovered`.
      const after = session.toldUnrecovered;
      if (after && !events.some((event) => event.type === 'recovered')) {
        events.push({ type: 'recovered', total: session.engine.state().syncedTotal });
      }
      session.pendingRecovery = null;
      session.contact = 'online';
      await this.owner.persist(session);
      for (const event of events) this.owner.forwardEngineEvent(session, after && event.type === 'recovered' ? { ...event, after } : event);
      this.owner.changed(session);
      return true;
    });
  }
}
