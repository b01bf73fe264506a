// The seed's EarningsManager: what an app calls. It owns no earnings rules; the core engine
// (js/core.js) decides accrual, validation, the outbox, backoff and conflicts. This file is the
// front door (the seed's verbs, events, core restart); each effect around the core is a
// part with its own contract: TabRouting (which tab runs a user's engine, and forwarding to it),
// UserSession (a user's phase and queue), SyncLoop (when a sync is sent) and SyncExchange (one
// sync), Subscribers, StateTicker (when the balance moves for watchers and the record is
// checkpointed), SessionRecord (every store of the record), RecordRestore, ServerRecovery,
// StorageCleanup and PageLifecycle (what the page hiding, unloading or going on/offline means
// for each session).
//
// Durability order, relied on by the exactly-once invariant:
// - a write (updateEarnings) resolves only after its change is stored, by a write that started
//   after it (calls made while a write is in flight share the next one: RecordWriter): a tap
//   journal entry after the stored record where the store keeps one, else the engine's record
//   (state and outbox in one value) (DESIGN.md "The tap journal");
// - a sync request is stored (its ops frozen with their ids) before it is sent, so a tab killed
//   mid-request resends the same ids after reload and the server dedups them; sending first could
//   reuse a sequence number for different earnings after a crash, which the server would drop as
//   a duplicate.
// Engine and storage work for one user runs on one queue; network waits run outside it, so an
// earning is recorded while a slow request is in flight.
import { ClientError, ClientErrorCode } from './client-errors.js';
import { AmountMalformedError, ConfigInvalidError, RequestInvalidError, UserIdInvalidError } from './errors.js';
import { EarningsEvents } from './events.js';
import { PageLifecycle } from './page-lifecycle.js';
import { readNow } from './scheduler.js';
import { RecordRestore } from './record-restore.js';
import { CONTACT_EVENTS, ServerRecovery } from './server-recovery.js';
import { StorageCleanup } from './storage-cleanup.js';
import { SyncExchange } from './sync-exchange.js';
import { TabRouting } from './tab-routing.js';
import { UserSession } from './user-session.js';

const ENGINE_EVENTS = Object.freeze({
  review_needed: 'review-needed',
  review: 'review-needed',
  conflict: 'conflict',
  clock_jump: 'clock-jump',
  rejected: 'rejected',
  recovered: 'recovered',
  catch_up: 'catch-up',
});

export function requireUserId(userId) {
  if (!Number.isSafeInteger(userId) || userId <= 0) {
    throw new UserIdInvalidError(`userId must be a positive safe integer (got ${describe(userId)})`);
  }
  return userId;
}

function requireAmount(amount) {
  if (typeof amount !== 'string') {
    throw new AmountMalformedError(`amount must be a decimal string such as "0.001" (got ${describe(amount)}); money is never a JS number`);
  }
  return amount;
}

function describe(value) {
  if (typeof value === 'number' || typeof value === 'bigint') return `${typeof value} ${String(value)}`;
  return typeof value === 'string' ? `"${value.slice(0, 40)}"` : typeof value;
}

export class EarningsManager {
  constructor({ core, store, transport, clock, timers, lifecycle, telegram, tabServices, seed, randomBytes, engineConfig,
    storageBudgetBytes, degraded, initialStateTimeoutMs = 5000, reloadCore, legacy = null }) {
    this.initialStateTimeoutMs = initialStateTimeoutMs;
    this.reloadCore = reloadCore;
    this.coreRestart = null;
    this.core = core;
    this.store = store;
    this.transport = transport;
    this.clock = clock;
    this.timers = timers;
    this.lifecycle = lifecycle;
    this.telegram = telegram;
    this.seed = seed;
    this.randomBytes = randomBytes;
    this.engineConfig = engineConfig;
    this.storageBudgetBytes = storageBudgetBytes;
    // The old app's localStorage entries (LegacyEntries), imported on a user's first start here.
    this.legacy = legacy;
    this.cleanup = new StorageCleanup(this);
    this.restore = new RecordRestore(this);
    this.serverRecovery = new ServerRecovery(this);
    this.syncExchange = new SyncExchange(this);
    this.events = new EarningsEvents(core.contract.eventTypes.client);
    this.sessions = new Map();
    this.inFlight = new Set();
    this.disposed = false;
    this.startupDegraded = degraded;
    this.sync = {
      queueSync: (operation) => this.queueSync(operation),
      validateData: (data) => this.core.validateState(data),
      processQueue: (userId) => this.syncToDatabase(userId, false),
      retryFailedOperations: (userId) => this.syncToDatabase(userId, true),
      syncDueInMs: (userId) => {
        const session = this.session(userId);
        return session.engine ? session.engine.syncDueInMs(this.now()) : null;
      },
    };
    this.recovery = {
      detectCorruption: (bytes, userId) => this.detectCorruption(bytes, userId),
      resolveConflicts: (local, server) => this.core.resolveConflicts(local, server, { config: this.engineConfig }),
      validateRecoveredData: (data) => this.core.validateRecoveredData(data),
      recoverFromDatabase: (userId) => this.reconcileData(userId).then((result) => result.state),
      listQuarantine: (userId) => this.listQuarantine(userId),
      readQuarantine: (key) => this.store.get(key),
      discardQuarantine: (key) => this.discardQuarantine(key),
      conflicts: (userId) => this.leaderEngine(userId).conflicts(),
      audit: (userId) => this.leaderEngine(userId).audit(),
      metrics: (userId) => this.leaderEngine(userId).metrics(),
    };
    this.tabRouting = new TabRouting(this.tabsDelegate(), { services: tabServices, timers, newTabId: () => this.newId('t') });
    this.pageLifecycle = new PageLifecycle(this.lifecycleDelegate(), { lifecycle: this.lifecycle, telegram: this.telegram });
  }

  now() {
    return readNow(this.clock);
  }

  on(type, listener) {
    return this.events.on(type, listener);
  }

  track(promise) {
    this.inFlight.add(promise);
    const forget = () => this.inFlight.delete(promise);
    promise.then(forget, forget);
  }

  // Resolves when no storage or network work started so far is still running. For tests and for
  // apps that want to wait before, say, navigating away.
  async settled() {
    while (this.inFlight.size > 0) {
      await Promise.allSettled([...this.inFlight]);
    }
  }

  ensureOpen() {
    if (this.disposed) throw new ClientError(ClientErrorCode.DISPOSED, 'this EarningsManager was disposed');
  }

  session(userId) {
    requireUserId(userId);
    const session = this.sessions.get(userId);
    if (!session) {
      throw new ClientError(ClientErrorCode.USER_NOT_INITIALIZED, `call initializeUser(${userId}) first`);
    }
    return session;
  }

  leaderEngine(userId) {
    const session = this.session(userId);
    if (!session.engine) {
      throw new ClientError(ClientErrorCode.TAB_LEADER_LOST, 'another tab leads this user; ask that tab, or read state()');
    }
    return session.engine;
  }

  async initializeUser(userId) {
    this.ensureOpen();
    requireUserId(userId);
    // Inside Telegram the server credits the initData's user whatever id the app passes here, so
    // opening another user's record would mix two users' earnings.
    if (this.telegram?.userId && userId !== this.telegram.userId) {
      throw new UserIdInvalidError(`userId ${userId} is not the Telegram user of this Mini App`);
    }
    let session = this.sessions.get(userId);
    if (!session) {
      session = new UserSession(this, userId);
      this.sessions.set(userId, session);
      if (this.startupDegraded.length > 0) {
        this.events.emit('storage-degraded', { userId, store: this.store.kind, durable: this.store.durable, failed: this.startupDegraded });
      }
      session.ready = this.tabRouting.start(session);
      session.ready.catch(() => {
        if (this.sessions.get(userId) === session) this.sessions.delete(userId);
      });
    }
    await session.ready;
    return this.stateOf(session);
  }

  // This tab now runs the user's engine: restore the record (or recover it), then keep it ticking
  // and syncing. A tab that takes over from a dead leader lands here too and continues from the
  // leader's last stored record.
  async lead(session) {
    const start = await session.run(() => this.restore.open(session));
    if (start.journal) this.events.emit('journal-quarantined', { userId: session.userId, ...start.journal });
    if (start.corruption) {
      const { error, key } = start.corruption;
      await this.serverRecovery.recover(session).catch(() => false);
      this.events.emit('corruption', {
        userId: session.userId,
        code: error.code,
        message: error.message,
        quarantineKey: key,
        recovered: this.recoveredYet(session, 'corruption'),
        options: {
          retryRecovery: () => this.serverRecovery.recover(session),
          readQuarantine: () => this.store.get(key),
          discardQuarantine: () => this.discardQuarantine(key),
        },
      });
    } else if (start.lost) {
      await this.serverRecovery.adopt(session);
      this.events.emit('storage-lost', { userId: session.userId, previousClientId: start.lost, clientId: session.clientId, recovered: this.recoveredYet(session, 'storage-lost') });
    } else {
      await this.serverRecovery.adopt(session);
      // Without the server's answer in time, the catch-up stays unconfirmed (beside the balance,
      // stored with the record) until a server time judges it: the next sync asks for the row.
      // A row still owed for a record the app was told about (a restart) judges the catch-up too.
      if (session.engine.state().unconfirmedSince >= 0) session.pendingRecovery ??= 'catch-up';
    }
    // Property 10: other users' old synced records are trimmed to the budget before it is hit.
    this.track(this.cleanup.run(session.userId).catch((error) => {
      this.events.emit('error', { userId: session.userId, source: 'cleanup', error });
    }));
    this.takeEngineEvents(session);
    this.scheduleTick(session);
    this.scheduleSync(session);
    this.broadcast(session);
    this.setLeading(session, true);
  }

  // What lead() tells of a record that did not restore: whether the server's row rebuilt it by
  // now. If not, the row that comes later (a late start answer, the next sync) is told as
  // `recovered` with `after: cause` (ServerRecovery).
  recoveredYet(session, cause) {
    if (session.pendingRecovery === null) return true;
    session.pendingRecovery = cause;
    return false;
  }

  // `leader` tells the app when this tab starts or stops running the user's engine; a restart on a
  // fresh core (restartCore) leads again without a change, so it says nothing.
  setLeading(session, leading) {
    if (session.leading === leading) return;
    session.leading = leading;
    this.events.emit('leader', { userId: session.userId, isLeader: leading });
  }

  // Reading the state accrues up to now; a balance that moved is a change subscribers hear of
  // (throttled), unless the read is the one Subscribers makes to deliver it.
  stateOf(session, { notify = true } = {}) {
    if (!session.engine) return session.mirror ?? session.lastState ?? null;
    try {
      const changed = session.engine.tick(this.now());
      // Events a tick raises (clock jump, offline cap) are told before anything can store the
      // state that no longer raises them; a state never stored raises them again after a reload.
      this.takeEngineEvents(session);
      session.lastState = this.shownState(session);
      if (changed && notify) this.notify(session);
    } catch (error) {
      if (error?.code !== 'CORE_FAULT') throw error;
      this.restartCore();
    }
    return session.lastState;
  }

  // A trap inside the wasm stops that core for good (CORE_FAULT). Its memory is not trusted, so
  // nothing more is stored from it: every leading session starts over on a fresh core from its
  // last stored record, which holds every earning a resolved updateEarnings reported and the
  // anchor time accrual is recomputed from. Calls made meanwhile wait for the restart.
  restartCore() {
    if (this.coreRestart || this.disposed) return this.coreRestart;
    const leading = [...this.sessions.values()].filter((session) => session.engine);
    for (const session of leading) {
      session.syncLoop.cancel();
      session.ticker.cancel();
    }
    const restart = (async () => {
      this.events.emit('error', { source: 'core', error: new ClientError('CORE_FAULT', 'the wasm core trapped; restarting it from stored records') });
      this.core = await this.reloadCore();
      for (const session of leading) {
        const stale = session.engine;
        session.engine = null;
        session.moveTo('restarting');
        try {
          stale.dispose();
        } catch {
          // A faulted core's handles are gone with it.
        }
        await this.lead(session);
      }
    })();
    this.coreRestart = restart;
    for (const session of leading) session.ready = restart;
    this.track(restart);
    restart.finally(() => {
      if (this.coreRestart === restart) this.coreRestart = null;
    }).catch((error) => this.events.emit('error', { source: 'core', error }));
    return restart;
  }

  // Known from the moment initializeUser(userId) resolves; before that there is nothing true to
  // show (a follower tab has not heard from its leader yet), which is USER_NOT_INITIALIZED.
  state(userId) {
    const state = this.stateOf(this.session(userId));
    if (state === null) {
      throw new ClientError(ClientErrorCode.USER_NOT_INITIALIZED, `initializeUser(${userId}) has not finished yet`);
    }
    return state;
  }

  // Whether this tab runs the user's engine (accrues, stores, syncs) or mirrors another tab.
  isLeader(userId) {
    return this.session(userId).isLeader;
  }

  // Which medium holds the records: 'indexeddb' | 'telegram-device' | 'localstorage' | 'memory'.
  get storageKind() {
    return this.store.kind;
  }

  async updateEarnings(userId, amount) {
    this.ensureOpen();
    const session = this.session(userId);
    requireAmount(amount);
    await session.ready;
    if (!session.isLeader) return this.tabRouting.forward(session, 'updateEarnings', [amount]);
    // The queue is not held while the earning is stored, so taps made meanwhile are added to the
    // engine at once and share the next write; a tap stores only its change (a journal entry).
    const { stored } = await session.run(async () => {
      session.engine.addEarnings(amount, this.now());
      this.takeEngineEvents(session);
      return { stored: this.persist(session, { journal: true }) };
    });
    await stored;
    this.changed(session);
  }

  // The seed's SyncManager.queueSync(operation) over the manager's own verbs: the engine's outbox
  // is the queue, and it numbers, batches and retries ops itself, so the operation's id,
  // timestamp and retry counts are not used. 'earnings_update' is updateEarnings with
  // `data.amount` (a decimal string), 'state_sync' a sync when due (processQueue),
  // 'reconciliation' reconcileData.
  async queueSync(operation) {
    if (operation === null || typeof operation !== 'object') {
      throw new RequestInvalidError('a sync operation must be an object { userId, type, data }');
    }
    const { userId, type, data } = operation;
    switch (type) {
      case 'earnings_update':
        await this.updateEarnings(userId, data?.amount);
        return;
      case 'state_sync':
        await this.syncToDatabase(userId, false);
        return;
      case 'reconciliation':
        await this.reconcileData(userId);
        return;
      default:
        throw new RequestInvalidError(
          `sync operation type must be 'earnings_update', 'state_sync' or 'reconciliation' (got ${describe(type)})`,
        );
    }
  }

  // Starts or stops mining at `rate` TON per hour (a decimal string). Accrual up to now is
  // settled at the old rate first, so a rate change never applies backwards.
  async setMining(userId, { active, rate } = {}) {
    this.ensureOpen();
    const session = this.session(userId);
    if (typeof active !== 'boolean') throw new ConfigInvalidError('active must be a boolean');
    if (rate !== undefined) requireAmount(rate);
    await session.ready;
    if (!session.isLeader) return this.tabRouting.forward(session, 'setMining', [{ active, rate }]);
    await session.run(async () => {
      const now = this.now();
      session.engine.tick(now);
      if (rate !== undefined) session.engine.setRate(rate);
      session.engine.setActive(active, now);
      // An explicit start takes the user's mining lease over from another device; a stop gives it up.
      session.lease.miningSet(active);
      this.takeEngineEvents(session);
      await this.persist(session);
    });
    this.changed(session);
  }

  // Sends what the outbox holds now. Without `force`, a sync waiting out a backoff stays waiting.
  // Resolves with { status, state, results?, retryInMs? }; network failures are outcomes, not
  // rejections, because the earnings stay queued and will be sent later (Property 12).
  async syncToDatabase(userId, force = false, { keepalive = false } = {}) {
    this.ensureOpen();
    const session = this.session(userId);
    await session.ready;
    if (!session.isLeader) return this.tabRouting.forward(session, 'syncToDatabase', [force]);
    return session.syncLoop.sync(force, { keepalive });
  }

  // The core's event names (snake_case) become the manager's typed events; per-op outcomes
  // (applied, duplicate, gap) are reported inside the `sync` event only.
  forwardEngineEvent(session, event) {
    const type = ENGINE_EVENTS[event?.type];
    if (type) this.events.emit(type, { userId: session.userId, ...event });
  }

  takeEngineEvents(session) {
    for (const event of session.engine.takeEvents()) this.forwardEngineEvent(session, event);
  }

  // The seed's offline switch: stop trying the network until the browser reports `online` or the
  // app calls syncToDatabase. Earnings keep accruing locally and are sent on reconnection.
  handleOfflineMode(userId) {
    this.ensureOpen();
    const session = this.session(userId);
    session.syncLoop.goOffline();
  }

  // Fetches the authoritative state and rebases local, unacknowledged earnings on it (server
  // wins, nothing local is dropped; disagreements go to the conflict log).
  async reconcileData(userId) {
    this.ensureOpen();
    const session = this.session(userId);
    await session.ready;
    if (!session.isLeader) return this.tabRouting.forward(session, 'reconcileData', []);
    const before = session.engine.conflicts().length;
    const recovered = await this.serverRecovery.recover(session);
    const conflicts = session.engine.conflicts().slice(before);
    return { recovered, state: this.shownState(session), conflicts };
  }

  // The seed's RecoveryManager.detectCorruption: true when `bytes` would not restore as this
  // user's record (the core runs every check a restore runs).
  detectCorruption(bytes, userId) {
    requireUserId(userId);
    return this.restore.detectCorruption(bytes, userId);
  }

  async listQuarantine(userId) {
    requireUserId(userId);
    return this.restore.listQuarantine(userId);
  }

  discardQuarantine(key) {
    return this.restore.discardQuarantine(key);
  }

  newId(prefix) {
    const bytes = this.randomBytes(12);
    return `${prefix}-${[...bytes].map((byte) => byte.toString(16).padStart(2, '0')).join('')}`;
  }

  // REQUIRES: running on the session's queue.
  // Stores the session's record by a write that starts after this call; true once stored, false
  // when storage failed (already reported: quota, storage-degraded). `journal`: a journal entry of
  // what changed is enough (SessionRecord).
  persist(session, options) {
    return session.record.flush(options).catch((error) => {
      if (error?.code === 'CORE_FAULT') this.restartCore();
      throw error;
    });
  }

  changed(session) {
    this.broadcast(session);
    this.notify(session);
    this.scheduleSync(session);
  }

  broadcast(session) {
    if (session.engine && session.tabs) session.tabs.broadcastState(this.shownState(session));
  }

  // The engine's state as the app may see it: nothing says `synced` before this page session had
  // an answer from the sync server (see CONTACT_EVENTS).
  shownState(session) {
    const state = session.engine.state();
    return session.contact === 'online' ? state : { ...state, syncStatus: session.contact };
  }

  // Moves the session's contact; a move to unreachable/unauthorized (and every refusal) is told.
  setContact(session, contact, detail = {}) {
    const changed = session.contact !== contact;
    session.contact = contact;
    if (CONTACT_EVENTS.has(contact) && (changed || contact === 'refused')) {
      this.events.emit(contact, { userId: session.userId, ...detail });
    }
    if (changed && session.engine) {
      session.lastState = this.shownState(session);
      this.broadcast(session);
      this.notify(session);
    }
  }

  // What the session's Subscribers asks of the manager.
  subscribersDelegate(session) {
    return {
      core: () => this.core,
      state: () => this.stateOf(session, { notify: false }),
      failed: (error) => this.events.emit('error', { userId: session.userId, source: 'subscriber', error }),
      coreFault: () => this.restartCore(),
    };
  }

  scheduleSync(session) {
    session.syncLoop.schedule();
  }

  // What the session's SyncLoop does to the world: the engine says when a sync is due, SyncExchange
  // sends it, and a timer's sync enters by the front door (syncToDatabase) like the app's.
  syncDelegate(session) {
    return {
      canSync: () => !this.disposed && session.engine !== null && this.lifecycle.isOnline(),
      dueInMs: () => session.engine.syncDueInMs(this.now()),
      exchange: ({ keepalive }) => this.syncExchange.send(session, { keepalive }),
      scheduled: (retryInMs) => ({ status: 'scheduled', retryInMs, state: this.shownState(session) }),
      due: () => this.syncToDatabase(session.userId, true),
      failed: (error) => this.events.emit('error', { userId: session.userId, source: 'sync', error }),
    };
  }

  scheduleTick(session) {
    session.ticker.schedule();
  }

  // What the session's StateTicker does on a tick: the engine up to now, watchers told of a
  // change, and the record stored when a checkpoint is due.
  tickerDelegate(session) {
    return {
      ticking: () => !this.disposed && session.engine !== null,
      watched: () => session.subscribers.size > 0 || Boolean(session.tabs?.hasFollowers),
      tick: ({ checkpointDue }) => session.run(async () => {
        const changed = session.engine.tick(this.now());
        this.takeEngineEvents(session);
        if (changed) {
          this.broadcast(session);
          this.notify(session);
        }
        if (checkpointDue(session.record.lastCheckpoint)) await this.persist(session);
      }),
      failed: (error) => this.events.emit('error', { userId: session.userId, source: 'tick', error }),
    };
  }

  // Property 20: subscribers hear at most once a second, and always get the last change.
  subscribe(userId, listener) {
    this.ensureOpen();
    const session = this.session(userId);
    if (typeof listener !== 'function') throw new TypeError('listener must be a function');
    const off = session.subscribers.add(listener);
    session.ticker.watch();
    return off;
  }

  notify(session) {
    session.subscribers.notify();
  }

  // What TabRouting asks of the manager: leading a user here, and the app's verbs for the calls
  // follower tabs forward.
  tabsDelegate() {
    return {
      lead: (session) => this.lead(session),
      state: (session) => this.stateOf(session),
      updateEarnings: (session, amount) => this.updateEarnings(session.userId, amount),
      setMining: (session, options) => this.setMining(session.userId, options),
      syncToDatabase: (session, force) => this.syncToDatabase(session.userId, force),
      reconcileData: (session) => this.reconcileData(session.userId),
      mirrored: (session) => this.notify(session),
      followerJoined: (session) => session.ticker.watch(),
      refused: (session) => this.events.emit('leader-refused', {
        userId: session.userId,
        reason: 'another tab leads this user and this browser has no Web Locks to hand leadership over safely',
      }),
      track: (promise) => this.track(promise),
    };
  }

  // What PageLifecycle does to the sessions when the page hides, unloads or goes on/offline.
  lifecycleDelegate() {
    return {
      sessions: () => this.sessions.values(),
      leads: (session) => session.engine !== null,
      inOfflineMode: (session) => session.syncLoop.offline,
      leaveOfflineMode: (session) => session.syncLoop.setOffline(false),
      flush: async (session, { keepalive, online }) => {
        if (online) await session.run(async () => session.engine.onOnline(this.now()));
        return this.syncToDatabase(session.userId, true, { keepalive });
      },
      cancelSyncs: (session) => session.syncLoop.cancel(),
      failed: (session, error) => this.events.emit('error', { userId: session.userId, source: 'sync', error }),
      track: (promise) => this.track(promise),
    };
  }

  // Stops timers, releases leadership (another tab takes over) and frees the engines. Stored
  // records stay; nothing is deleted.
  async dispose() {
    if (this.disposed) return;
    this.disposed = true;
    this.pageLifecycle.detach();
    await this.settled();
    for (const session of this.sessions.values()) {
      if (session.engine) {
        await session.run(async () => {
          session.engine.tick(this.now());
          this.takeEngineEvents(session);
          await this.persist(session);
        }).catch(() => {});
      }
    }
    for (const session of this.sessions.values()) {
      session.syncLoop.cancel();
      session.ticker.cancel();
      session.subscribers.dispose();
      session.tabs?.dispose();
      session.engine?.dispose();
      session.engine = null;
      session.moveTo('closed');
      this.setLeading(session, false);
    }
    this.sessions.clear();
    this.events.clear();
    this.store.close?.();
  }
}
