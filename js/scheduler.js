// Time and timers as injected services. The core never reads a clock; this module is the one place
// that does, so tests swap in a virtual clock and timers and stay deterministic.

// Wall is Unix epoch ms; mono is performance.now() rounded down, which restarts on reload, and
// that restart is how the core tells a new session from a wall clock jump.
export const systemClock = Object.freeze({
  wall: () => Date.now(),
  mono: () => Math.floor(globalThis.performance?.now() ?? 0),
});

// `now()` is the timers' own time base. It can differ from the injected clock (a demo's manual
// clock, a test clock that jumps), and only it says which of two pending timeouts fires first.
export const systemTimers = Object.freeze({
  setTimeout: (callback, ms) => globalThis.setTimeout(callback, ms),
  clearTimeout: (handle) => globalThis.clearTimeout(handle),
  now: () => globalThis.performance?.now() ?? Date.now(),
});

export function readNow(clock) {
  return { wall: clock.wall(), mono: clock.mono() };
}

// One pending callback at a time: rescheduling replaces, so a session never runs two sync timers.
export class SingleTimer {
  constructor(timers) {
    this.timers = timers;
    this.handle = null;
    this.dueAt = null;
  }

  // Keeps the earlier deadline when one is already pending unless `replace` is set. Deadlines are
  // compared in the timers' time when they tell it (`timers.now()`), else in the caller's `now`:
  // compared in an injected clock that ran ahead of the timers, an old 60 s timeout would look
  // earlier than a new 300 ms retry and the retry would wait for it.
  schedule(ms, callback, now, { replace = false } = {}) {
    const dueAt = (this.timers.now ? this.timers.now() : now) + ms;
    if (this.handle !== null && !replace && this.dueAt <= dueAt) return;
    this.cancel();
    this.dueAt = dueAt;
    this.handle = this.timers.setTimeout(() => {
      this.handle = null;
      this.dueAt = null;
      return callback();
    }, Math.max(0, ms));
  }

  cancel() {
    if (this.handle !== null) this.timers.clearTimeout(this.handle);
    this.handle = null;
    this.dueAt = null;
  }
}

// Browser lifecycle signals that should flush earnings to the server at once: back online, page
// hidden (the last event mobile browsers reliably deliver), page being unloaded. Returns an
// object with `isOnline()` and `on(type, listener) -> off`.
export function browserLifecycle(win = globalThis) {
  const listeners = new Map();
  const emit = (type) => {
    for (const listener of listeners.get(type) ?? []) listener();
  };
  const handlers = {
    online: () => emit('online'),
    offline: () => emit('offline'),
    pagehide: () => emit('pagehide'),
    visibilitychange: () => emit(win.document?.visibilityState === 'hidden' ? 'hidden' : 'visible'),
  };
  let attached = false;
  const attach = () => {
    if (attached || typeof win.addEventListener !== 'function') return;
    attached = true;
    win.addEventListener('online', handlers.online);
    win.addEventListener('offline', handlers.offline);
    win.addEventListener('pagehide', handlers.pagehide);
    win.document?.addEventListener?.('visibilitychange', handlers.visibilitychange);
  };
  return {
    isOnline: () => win.navigator?.onLine !== false,
    emit,
    on(type, listener) {
      attach();
      if (!listeners.has(type)) listeners.set(type, new Set());
      listeners.get(type).add(listener);
      return () => listeners.get(type)?.delete(listener);
    },
    dispose() {
      listeners.clear();
      if (!attached) return;
      attached = false;
      win.removeEventListener('online', handlers.online);
      win.removeEventListener('offline', handlers.offline);
      win.removeEventListener('pagehide', handlers.pagehide);
      win.document?.removeEventListener?.('visibilitychange', handlers.visibilitychange);
    },
  };
}
