// Which tab runs a user's engine, and how the user's other tabs reach it. With Web Locks or a
// BroadcastChannel (tab services), TabCoordinator (js/tabs.js) elects one leading tab per user
// and hands leadership over when it dies; the other tabs follow: they show the leader's state and
// forward every call to it. Without tab services this tab leads alone. This class makes that
// choice for a session and routes calls between tabs; what leading and each call mean is the
// delegate's (the manager's front door), so it is tested with fake tabs and no manager.
//
// Contract:
// - start(session) resolves once the session leads here (delegate.lead resolved) or follows
//   another tab (phase 'following', `session.mirror` holding the leader's state). A follower that
//   wins leadership later (the leader died) leads through delegate.lead, which the owner tracks.
// - forward(session, method, args) is for a follower: the leading tab runs the call. A call that
//   changes the user's state (updateEarnings, setMining) resolves with nothing once the mirror
//   holds the leader's answer and the delegate heard of it; the others (syncToDatabase,
//   reconcileData) resolve with the leader's answer.
// - serve(session, method, args) runs a follower's call on this, the leading tab, through the
//   delegate; a state-changing call answers with the state after it. An unknown method is
//   REQUEST_INVALID.
// - Every state the leader broadcasts becomes the mirror, and the delegate hears of it; a
//   broadcast error is not a state and is ignored.
//
// Delegate:
//   lead(session)                     this tab now runs the session's engine; a promise
//   state(session)                    the user's state here (the leader's)
//   updateEarnings(session, amount)   the app's verbs, run here; promises
//   setMining(session, options)
//   syncToDatabase(session, force)
//   reconcileData(session)
//   mirrored(session)                 the mirror changed
//   followerJoined(session)           some tab mirrors this leader's state: keep it moving
//   refused(session)                  no Web Locks and another tab leads: this one cannot take over
//   track(promise)                    work the owner waits for before it is disposed
import { ClientError } from './client-errors.js';
import { TabCoordinator } from './tabs.js';

// Forwarded calls whose answer is the user's state, kept as the follower's mirror.
const MIRRORED = new Set(['updateEarnings', 'setMining']);

export class TabRouting {
  // `newTabId()` names this tab once, when a session first needs a coordinator.
  constructor(delegate, { services, timers, newTabId }) {
    this.delegate = delegate;
    this.services = services;
    this.timers = timers;
    this.newTabId = newTabId;
    this.tabId = null;
  }

  async start(session) {
    if (!this.services?.locks && !this.services?.openChannel) {
      await this.delegate.lead(session);
      return;
    }
    session.tabs = new TabCoordinator({
      userId: session.userId,
      tabId: (this.tabId ??= this.newTabId()),
      services: this.services,
      timers: this.timers,
      onLeader: () => {
        const leading = this.delegate.lead(session);
        this.delegate.track(leading);
        return leading;
      },
      onCall: (method, args) => this.serve(session, method, args),
      onRefused: () => this.delegate.refused(session),
      onFollower: () => this.delegate.followerJoined(session),
      onState: (state) => {
        if (state && !state.error) {
          session.mirror = state;
          this.delegate.mirrored(session);
        }
      },
    });
    await session.tabs.start();
    if (!session.isLeader) {
      // Another tab won; a takeover later moves this session on to leading (onLeader).
      if (session.phase === 'starting') session.moveTo('following');
      session.mirror = await session.tabs.call('state', []);
    }
  }

  async forward(session, method, args) {
    if (!MIRRORED.has(method)) return session.tabs.call(method, args);
    session.mirror = await session.tabs.call(method, args);
    this.delegate.mirrored(session);
    return undefined;
  }

  async serve(session, method, args) {
    switch (method) {
      case 'state':
        return this.delegate.state(session);
      case 'updateEarnings':
        await this.delegate.updateEarnings(session, args[0]);
        return this.delegate.state(session);
      case 'setMining':
        await this.delegate.setMining(session, args[0]);
        return this.delegate.state(session);
      case 'syncToDatabase':
        return this.delegate.syncToDatabase(session, Boolean(args[0]));
      case 'reconcileData':
        return this.delegate.reconcileData(session);
      default:
        throw new ClientError('REQUEST_INVALID', `unknown tab call ${method}`);
    }
  }
}
