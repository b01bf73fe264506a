// What the page's comings and goings mean for the users this tab leads: the browser going online
// or offline, the page being hidden or unloaded (visibilitychange, pagehide), a Telegram Mini App
// being deactivated. This class holds the subscriptions and decides, per event and per session,
// what is done; the doing (a sync, the engine told it is online, a timer cancelled, a failure
// reported) goes through its delegate, so it is tested without a manager, an engine or a page.
//
// Contract: from construction until detach(), each event acts on the sessions the delegate lists
// at that moment, and only on those it leads (a follower's leader tab hears the same events):
//   hidden, pagehide, deactivated  the page may be gone a moment later: a forced sync with
//                                  keepalive (the request outlives the page), except for a session
//                                  in the seed's offline mode (handleOfflineMode), which sends
//                                  nothing until `online`
//   online                         the session leaves offline mode, its engine hears it is back
//                                  (its backoff starts over) and a forced sync follows
//   offline                        every session's sync timer is cancelled; nothing is sent until
//                                  `online` or the app asks
// A sync's failure goes to `failed`, never back into the event source. After detach() no event
// reaches the delegate. An event source without `on` (no browser, no Telegram) is simply not heard.
//
// Delegate:
//   sessions()                         the sessions of this tab, now
//   leads(session)                     whether this tab runs the session's engine
//   inOfflineMode(session)             handleOfflineMode is in force for it
//   leaveOfflineMode(session)
//   flush(session, {keepalive, online}) a forced sync (after telling the engine when `online`); a promise
//   cancelSyncs(session)               drop its armed sync timer
//   failed(session, error)             what flush rejected with
//   track(promise)                     work the owner waits for before it is disposed
export class PageLifecycle {
  constructor(delegate, { lifecycle, telegram = null }) {
    this.delegate = delegate;
    this.detachers = [];
    const on = (source, type, handler) => {
      if (source?.on) this.detachers.push(source.on(type, handler));
    };
    on(lifecycle, 'online', () => this.flushAll({ keepalive: false, online: true }));
    on(lifecycle, 'hidden', () => this.flushAll({ keepalive: true }));
    on(lifecycle, 'pagehide', () => this.flushAll({ keepalive: true }));
    on(lifecycle, 'offline', () => {
      for (const session of this.delegate.sessions()) this.delegate.cancelSyncs(session);
    });
    if (telegram?.onLifecycle) {
      this.detachers.push(telegram.onLifecycle('deactivated', () => this.flushAll({ keepalive: true })));
    }
  }

  flushAll({ keepalive, online = false }) {
    for (const session of this.delegate.sessions()) {
      if (!this.delegate.leads(session)) continue;
      if (online) this.delegate.leaveOfflineMode(session);
      if (this.delegate.inOfflineMode(session)) continue;
      const flush = this.delegate.flush(session, { keepalive, online });
      this.delegate.track(flush.catch((error) => this.delegate.failed(session, error)));
    }
  }

  detach() {
    for (const off of this.detachers.splice(0)) off();
  }
}
