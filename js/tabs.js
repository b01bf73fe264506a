// One leader tab per user: it alone runs the engine (accrues, persists, syncs), so two tabs of one
// user never count the same time twice. Leadership is a Web Lock, which the browser releases when
// the holding tab dies; timing-based elections over BroadcastChannel elect several leaders under
// load. Followers forward their writes to the leader and mirror its state over a BroadcastChannel.
// Without Web Locks (old browsers) a tab leads unless a live leader answers its hello within
// `probeMs`; then it follows and says so (onRefused). That keeps a second tab from counting the
// same time twice, but it is a timed check: two tabs opened at the same instant may both lead.
import { ClientError, ClientErrorCode } from './client-errors.js';
import { errorFromCode, hasErrorClass } from './errors.js';

// Calls whose repetition changes nothing: reads, setting mining on/off, syncing, reconciling.
const REPEATABLE = new Set(['state', 'setMining', 'syncToDatabase', 'reconcileData']);

export function leaderLockName(userId) {
  return `ton-earnings-guard:leader:${userId}`;
}

export function tabChannelName(userId) {
  return `ton-earnings-guard:user:${userId}`;
}

export function browserTabServices(env = globalThis) {
  return {
    locks: env.navigator?.locks ?? null,
    openChannel: typeof env.BroadcastChannel === 'function' ? (name) => new env.BroadcastChannel(name) : null,
  };
}

// Messages: leader -> all { type: 'state', state }, { type: 'leader', tabId } and, without Web
// Locks, { type: 'resign', tabId } when it stops;
// follower -> leader { type: 'call', id, tabId, method, args }; leader -> follower
// { type: 'reply', id, tabId, value } or { ..., error: { code, message } }; a follower that
// starts asks with { type: 'hello' } so the leader repeats its state.
export class TabCoordinator {
  // `onLeader()` runs once when this tab wins the lock and resolves when it is ready to serve;
  // `onCall(method, args)` serves a follower's forwarded write on the leader; `onState(state)`
  // mirrors the leader's state on a follower.
  // `onFollower()` tells the leader that some tab mirrors its state.
  // Without Web Locks, `timers` time the wait for a leader's answer (`probeMs`) and `onRefused()`
  // says this tab follows a leader it cannot take over from by lock.
  constructor({ userId, tabId, services, onLeader, onCall, onState, onFollower = () => {}, onRefused = () => {},
    timers = null, probeMs = 500 }) {
    this.onFollower = onFollower;
    this.onRefused = onRefused;
    this.timers = timers;
    this.probeMs = probeMs;
    this.leaderAnswered = null;
    this.hasFollowers = false;
    this.userId = userId;
    this.tabId = tabId;
    this.locks = services.locks;
    this.channel = services.openChannel ? services.openChannel(tabChannelName(userId)) : null;
    this.onLeader = onLeader;
    this.onCall = onCall;
    this.onState = onState;
    this.isLeader = false;
    this.pending = new Map();
    this.nextCallId = 1;
    this.release = null;
    this.disposed = false;
    this.leaderReady = null;
    if (this.channel) this.channel.onmessage = (event) => this.receive(event.data);
  }

  // Resolves once this tab leads, or at once as a follower when another tab holds the lock.
  start() {
    if (!this.locks) return this.channel && this.timers ? this.leadUnlessAnswered() : this.lead();
    const held = new Promise((resolve) => {
      this.release = resolve;
    });
    let settled = false;
    return new Promise((resolve, reject) => {
      this.locks.request(leaderLockName(this.userId), { ifAvailable: true }, async (lock) => {
        if (lock) {
          settled = true;
          await this.lead().then(resolve, reject);
          await held;
          return;
        }
        settled = true;
        resolve();
        this.channel?.postMessage({ type: 'hello', tabId: this.tabId });
        // Queue for the lock: granted when the leader tab dies or disposes.
        await this.locks.request(leaderLockName(this.userId), async () => {
          if (this.disposed) return;
          await this.lead().catch((error) => this.onState?.({ error }));
          await held;
        });
      }).catch((error) => {
        if (!settled) reject(error);
      });
    });
  }

  // A live leader answers a hello with its state. A tab that hears it follows; one that hears
  // nothing within probeMs leads.
  async leadUnlessAnswered() {
    let timer;
    const answered = new Promise((resolve) => {
      this.leaderAnswered = () => resolve(true);
      timer = this.timers.setTimeout(() => resolve(false), this.probeMs);
    });
    this.channel.postMessage({ type: 'hello', tabId: this.tabId });
    const leaderAlive = await answered;
    this.timers.clearTimeout(timer);
    this.leaderAnswered = null;
    if (this.disposed) return;
    if (leaderAlive) {
      this.onRefused();
      return;
    }
    await this.lead();
  }

  async lead() {
    this.isLeader = true;
    this.leaderReady = Promise.resolve(this.onLeader());
    await this.leaderReady;
    this.leaderChanged('this tab became the leader before the previous leader answered');
    this.channel?.postMessage({ type: 'leader', tabId: this.tabId });
  }

  broadcastState(state) {
    if (this.isLeader) this.channel?.postMessage({ type: 'state', state });
  }

  // Forwards a write to the leader. REQUIRES: this tab is a follower and a channel exists.
  call(method, args) {
    if (!this.channel) {
      return Promise.reject(new ClientError(ClientErrorCode.TAB_LEADER_LOST, 'no channel to the leader tab'));
    }
    const id = this.nextCallId;
    this.nextCallId += 1;
    return new Promise((resolve, reject) => {
      this.pending.set(id, { resolve, reject, method, args });
      this.channel.postMessage({ type: 'call', id, tabId: this.tabId, method, args });
    });
  }

  async receive(message) {
    if (this.disposed || !message || typeof message !== 'object') return;
    if ((message.type === 'call' || message.type === 'hello') && this.isLeader) {
      this.hasFollowers = true;
      this.onFollower();
    }
    if (message.type === 'call' && this.isLeader) {
      await this.leaderReady;
      let reply;
      try {
        reply = { type: 'reply', id: message.id, tabId: message.tabId, value: await this.onCall(message.method, message.args) };
      } catch (error) {
        reply = { type: 'reply', id: message.id, tabId: message.tabId, error: { code: error?.code ?? 'ERROR', message: error?.message ?? String(error) } };
      }
      this.channel.postMessage(reply);
    } else if (message.type === 'reply' && message.tabId === this.tabId) {
      const call = this.pending.get(message.id);
      if (!call) return;
      this.pending.delete(message.id);
      if (message.error) {
        const { code, message: text } = message.error;
        call.reject(hasErrorClass(code) ? errorFromCode(code, text) : new ClientError(code, text));
      } else {
        call.resolve(message.value);
      }
    } else if (message.type === 'state' && !this.isLeader) {
      this.leaderAnswered?.();
      this.onState(message.state);
    } else if (message.type === 'hello' && this.isLeader) {
      await this.leaderReady;
      this.onCall('state', []).then((state) => this.broadcastState(state), () => {});
    } else if (message.type === 'leader' && !this.isLeader) {
      this.leaderChanged('the leader tab went away before answering');
    } else if (message.type === 'resign' && !this.isLeader && !this.locks) {
      // No lock queue hands leadership on: ask again, and lead if no other tab answers.
      this.leadUnlessAnswered().catch((error) => this.onState?.({ error }));
    }
  }

  // A new leader means the old one died, and calls it took with it will never be answered. Calls
  // that are safe to repeat are asked again (of this tab, if it now leads); an earning is not, as
  // the dead leader may have stored it: its caller gets TAB_LEADER_LOST and decides.
  leaderChanged(reason) {
    for (const [id, call] of this.pending) {
      if (!REPEATABLE.has(call.method)) {
        this.pending.delete(id);
        call.reject(new ClientError(ClientErrorCode.TAB_LEADER_LOST,
          `${reason}; the earning may or may not have been recorded, check the state before retrying`));
      } else if (this.isLeader) {
        this.pending.delete(id);
        Promise.resolve(this.onCall(call.method, call.args)).then(call.resolve, call.reject);
      } else {
        this.channel.postMessage({ type: 'call', id, tabId: this.tabId, method: call.method, args: call.args });
      }
    }
  }

  failPending(reason) {
    for (const call of this.pending.values()) call.reject(new ClientError(ClientErrorCode.TAB_LEADER_LOST, reason));
    this.pending.clear();
  }

  dispose() {
    if (this.isLeader && !this.locks) this.channel?.postMessage({ type: 'resign', tabId: this.tabId });
    this.disposed = true;
    this.failPending('the manager was disposed');
    this.release?.();
    this.channel?.close();
  }
}
