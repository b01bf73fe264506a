// One user's session in this tab: what the manager keeps per user, and the one queue that
// serializes that user's engine and storage work.
//
// Contract: a session is in exactly one phase and moves only along SESSION_MOVES (moveTo throws
// on any other move, a bug in this package):
//   starting    initializeUser is restoring the record or asking the other tabs; nothing to show
//   following   another tab runs the engine; this one mirrors its state and forwards calls to it
//   leading     this tab runs the engine (accrues, stores, syncs); `engine` is set in this phase only
//   restarting  the core trapped; the engine is gone until lead() runs again on a fresh core
//   closed      disposed; nothing runs
// Leading is reached from starting (no other tab, or this one won), from following (the leader
// died) and from restarting. What this page session knows of the sync server is a second, separate
// state, `contact`: 'connecting' before any answer, 'online' after an answer in the protocol, or
// 'unreachable' / 'unauthorized' / 'refused' (manager.setContact). Work given to run() runs after all work given
// before it; a failure goes to its caller only, and a CORE_FAULT restarts the core.
import { MiningLease } from './mining-lease.js';
import { SessionRecord } from './session-record.js';
import { StateTicker } from './state-ticker.js';
import { Subscribers } from './subscribers.js';
import { SyncLoop } from './sync-loop.js';

// Subscribers and follower tabs see the balance move once a second; the record is checkpointed
// less often because accrual is a function of time and is recomputed from the stored anchor.
export const TICK_MS = 1000;
const CHECKPOINT_MS = 30_000;

export const SESSION_MOVES = Object.freeze({
  starting: Object.freeze(['leading', 'following', 'closed']),
  following: Object.freeze(['leading', 'closed']),
  leading: Object.freeze(['restarting', 'closed']),
  restarting: Object.freeze(['leading', 'closed']),
  closed: Object.freeze([]),
});

export class UserSession {
  constructor(manager, userId) {
    this.manager = manager;
    this.userId = userId;
    this.phase = 'starting';
    this.engine = null;
    this.clientId = null;
    this.mirror = null;
    this.queue = Promise.resolve();
    // Every store of this user's record goes through it (manager.persist).
    this.record = new SessionRecord(manager, this);
    // When this user's outbox is sent; the manager is its delegate (syncDelegate).
    this.syncLoop = new SyncLoop(manager.syncDelegate(this), { clock: manager.clock, timers: manager.timers, track: (p) => manager.track(p) });
    // When the balance moves for watchers and the record is checkpointed (tickerDelegate).
    this.ticker = new StateTicker(manager.tickerDelegate(this), { clock: manager.clock, timers: manager.timers, tickMs: TICK_MS, checkpointMs: CHECKPOINT_MS });
    // The user's mining lease as this device knows it: whether another device mines meanwhile.
    this.lease = new MiningLease();
    // Who hears this user's state, throttled (Property 20).
    this.subscribers = new Subscribers(manager.subscribersDelegate(this), { clock: manager.clock, timers: manager.timers, windowMs: TICK_MS });
    // What the app was last told by the `leader` event (a core restart leads again silently).
    this.leading = false;
    // Why the server's row is still wanted, null once it is in: 'record' (the record did not
    // restore: its earnings are unknown), then 'storage-lost' or 'corruption' once the app was
    // told so with `recovered: false` (the row, when it comes, is told as `recovered`), or
    // 'catch-up' (the time the app was closed waits for the server's time to judge it).
    this.pendingRecovery = null;
    this.tabs = null;
    this.contact = 'connecting';
    // Requests sent to the sync server in this page session (requestSent), so that an answer can
    // tell whether a request went out after its own (ServerRecovery: a late start answer).
    this.requestsSent = 0;
    // What calls wait for: initializeUser's start, then a core restart's.
    this.ready = null;
    // The last state shown: what state() answers while no engine runs here.
    this.lastState = null;
    // This device held a client id for the user when the record was opened (storage-lost).
    this.clientIdStored = false;
  }

  get isLeader() {
    return this.phase === 'leading';
  }

  moveTo(phase) {
    if (!SESSION_MOVES[this.phase].includes(phase)) {
      throw new Error(`user ${this.userId}'s session cannot move from ${this.phase} to ${phase}`);
    }
    this.phase = phase;
  }

  // REQUIRES: called just before a request to the sync server is sent; returns its number.
  requestSent() {
    this.requestsSent += 1;
    return this.requestsSent;
  }

  // Serializes engine and storage work of this user; a failure is returned to its caller and
  // does not poison later work.
  // The event the app was told a record did not restore by ('storage-lost', 'corruption'), while
  // the server's row is still owed; null otherwise.
  get toldUnrecovered() {
    return this.pendingRecovery === 'storage-lost' || this.pendingRecovery === 'corruption' ? this.pendingRecovery : null;
  }

  run(work) {
    const result = this.queue.then(work);
    this.queue = result.catch((error) => {
      if (error?.code === 'CORE_FAULT') this.manager.restartCore();
    });
    this.manager.track(result);
    return result;
  }
}
