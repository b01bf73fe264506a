// Web Locks and BroadcastChannel doubles shared by the "tabs" of one test, so leader election,
// forwarding and takeover run in one process. A tab's `kill()` drops its locks without running
// any of its code, which is what the browser does when a tab crashes or is closed.
export class FakeBrowser {
  constructor() {
    this.locks = new Map();
    this.channels = new Map();
  }

  tab() {
    const browser = this;
    const held = new Set();
    const channels = new Set();
    let alive = true;
    const locks = {
      request(name, options, callback) {
        if (typeof options === 'function') {
          callback = options;
          options = {};
        }
        return browser.requestLock(name, options, callback, held, () => alive);
      },
    };
    const openChannel = (name) => {
      const channel = new FakeChannel(browser, name, () => alive);
      channels.add(channel);
      return channel;
    };
    return {
      services: { locks, openChannel },
      kill() {
        alive = false;
        for (const channel of channels) channel.close();
        for (const name of held) browser.releaseLock(name, held);
      },
    };
  }

  requestLock(name, options, callback, held, isAlive) {
    const state = this.locks.get(name) ?? { holder: null, queue: [] };
    this.locks.set(name, state);
    if (state.holder && options.ifAvailable) return Promise.resolve(callback(null));
    return new Promise((resolve, reject) => {
      const waiter = { callback, held, isAlive, resolve, reject };
      state.queue.push(waiter);
      this.grant(name);
    });
  }

  grant(name) {
    const state = this.locks.get(name);
    while (!state.holder && state.queue.length > 0) {
      const waiter = state.queue.shift();
      if (!waiter.isAlive()) continue;
      state.holder = waiter;
      waiter.held.add(name);
      Promise.resolve()
        .then(() => waiter.callback({ name }))
        .then(waiter.resolve, waiter.reject)
        .finally(() => {
          if (state.holder === waiter) this.releaseLock(name, waiter.held);
        });
    }
  }

  releaseLock(name, held) {
    const state = this.locks.get(name);
    if (!state?.holder || state.holder.held !== held) return;
    held.delete(name);
    state.holder = null;
    this.grant(name);
  }
}

class FakeChannel {
  constructor(browser, name, isAlive) {
    this.browser = browser;
    this.name = name;
    this.isAlive = isAlive;
    this.onmessage = null;
    this.closed = false;
    if (!browser.channels.has(name)) browser.channels.set(name, new Set());
    browser.channels.get(name).add(this);
  }

  // Delivered asynchronously and to every other channel of the same name, like BroadcastChannel;
  // structuredClone gives receivers their own copy.
  postMessage(message) {
    if (this.closed || !this.isAlive()) return;
    for (const other of this.browser.channels.get(this.name)) {
      if (other === this || other.closed) continue;
      const data = structuredClone(message);
      queueMicrotask(() => {
        if (!other.closed && other.isAlive()) other.onmessage?.({ data });
      });
    }
  }

  close() {
    this.closed = true;
    this.browser.channels.get(this.name)?.delete(this);
  }
}

// Wraps a record store or a fetch so a killed tab's late writes and requests never land: a real
// tab that is killed performs nothing after its death.
export function killable() {
  let alive = true;
  const never = new Promise(() => {});
  return {
    kill: () => {
      alive = false;
    },
    store(inner) {
      const guard = (method) => async (...args) => {
        if (!alive) return never;
        const result = await inner[method](...args);
        return alive ? result : never;
      };
      return {
        kind: inner.kind, durable: inner.durable,
        get: guard('get'), put: guard('put'), delete: guard('delete'), list: guard('list'), close: () => {},
        ...(inner.journal ? { journal: true, append: guard('append'), checkpoint: guard('checkpoint'), readJournal: guard('readJournal') } : {}),
      };
    },
    fetch(inner) {
      return async (url, init) => {
        if (!alive) return never;
        const response = await inner(url, init);
        return alive ? response : never;
      };
    },
  };
}
