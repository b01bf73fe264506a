// Fault injection for the demo: wrappers around the client runtime's injectable parts
// (transport, clock, storage). They break the world the way real devices and networks do, so
// the page can show what the client does about it. None of them knows an earnings rule.

// What the client's fetch transport reports for a request that got no HTTP answer: status 0,
// which the core treats as retryable, exactly like a real outage.
function noAnswer(message) {
  return { status: 0, text: '', error: message };
}

// Deterministic source for "drop N% of requests", so a seeded demo run repeats itself.
export function seededRandom(seed) {
  let s = seed >>> 0;
  return () => {
    s = (s + 0x6d2b79f5) >>> 0;
    let t = s;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

function realDelay(ms) {
  return new Promise((resolve) => setTimeout(resolve, ms));
}

// Network faults over the client's transport (an object whose methods each make one HTTP
// exchange and resolve to { status, text }). `offline` fails every call before it leaves;
// `dropRequestRate` loses a request on the way out (the server never sees it);
// `dropResponseRate` loses the answer on the way back, AFTER the server committed: the case that
// makes exactly-once hard. `dropNextResponses` does the latter for the next N calls, for tests
// that must not depend on chance.
export class NetworkFaults {
  constructor({ random = seededRandom(1), delay = realDelay, failure = noAnswer } = {}) {
    this.offline = false;
    this.dropRequestRate = 0;
    this.dropResponseRate = 0;
    this.latencyMs = 0;
    this.dropNextResponses = 0;
    this.random = random;
    this.delay = delay;
    this.failure = failure;
    this.listeners = new Set();
    this.counts = { sent: 0, offline: 0, requestsDropped: 0, responsesDropped: 0 };
  }

  onFault(listener) {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  }

  emit(kind, detail) {
    for (const listener of this.listeners) listener({ kind, ...detail });
  }

  async around(label, call) {
    if (this.offline) {
      this.counts.offline += 1;
      this.emit('offline', { label });
      return this.failure('Failed to fetch (demo: offline)');
    }
    if (this.latencyMs > 0) await this.delay(this.latencyMs);
    if (this.dropRequestRate > 0 && this.random() < this.dropRequestRate) {
      this.counts.requestsDropped += 1;
      this.emit('request-dropped', { label });
      return this.failure('Failed to fetch (demo: request dropped)');
    }
    this.counts.sent += 1;
    const response = await call();
    const dropThis = this.dropNextResponses > 0
      || (this.dropResponseRate > 0 && this.random() < this.dropResponseRate);
    if (dropThis) {
      if (this.dropNextResponses > 0) this.dropNextResponses -= 1;
      this.counts.responsesDropped += 1;
      this.emit('response-dropped', { label });
      return this.failure('Failed to fetch (demo: response lost after the server committed)');
    }
    return response;
  }

  wrap(transport) {
    return new Proxy(transport, {
      get: (target, property, receiver) => {
        const value = Reflect.get(target, property, receiver);
        if (typeof value !== 'function') return value;
        return (...args) => this.around(String(property), () => value.apply(target, args));
      },
    });
  }
}

// Time sources. The real one reads the device; the manual one only moves when told to, so
// browser tests decide exactly how much time passes (and the server's clock moves in step).
export function realTimeSource() {
  return {
    wall: () => Date.now(),
    mono: () => Math.floor(performance.now()),
  };
}

export function manualTimeSource({ wall, mono = 0 }) {
  let wallNow = wall;
  let monoNow = mono;
  return {
    wall: () => wallNow,
    mono: () => monoNow,
    advance(ms) {
      wallNow += ms;
      monoNow += ms;
    },
  };
}

// A device whose user (or an attacker) moves the system clock: only the wall clock jumps, the
// monotonic clock keeps counting, which is what lets the core notice.
export class ClockFaults {
  constructor(source) {
    this.source = source;
    this.wallOffsetMs = 0;
    this.listeners = new Set();
  }

  onJump(listener) {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  }

  jump(ms) {
    this.wallOffsetMs += ms;
    for (const listener of this.listeners) listener({ jumpedMs: ms, wallOffsetMs: this.wallOffsetMs });
  }

  wall() {
    return this.source.wall() + this.wallOffsetMs;
  }

  mono() {
    return this.source.mono();
  }
}

export function quotaExceededError() {
  return new DOMException('The quota has been exceeded. (demo: storage full)', 'QuotaExceededError');
}

function flipMiddleByte(bytes) {
  const copy = Uint8Array.from(bytes);
  copy[Math.floor(copy.length / 2)] ^= 0x5a;
  return copy;
}

// Storage faults over the client's record store (get/put/delete/list of bytes, and the tap
// journal's append/checkpoint). `corrupt(key)`
// flips a byte of what is stored, as a bad flash sector or a torn write would. `fillQuota()` makes
// the device full: a write that needs more room than has been freed since throws the store's quota
// error, so only evicting something (other users' synced records) gets writes through again.
export class StorageFaults {
  // `quotaError` builds the error the wrapped store itself throws when the browser is full.
  constructor({ quotaError = quotaExceededError } = {}) {
    this.quotaError = quotaError;
    this.full = false;
    this.freedBytes = 0;
    this.sizes = new Map();
    this.listeners = new Set();
    this.counts = { quotaErrors: 0, corruptions: 0 };
  }

  onFault(listener) {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  }

  emit(kind, detail) {
    for (const listener of this.listeners) listener({ kind, ...detail });
  }

  fillQuota() {
    this.full = true;
    this.freedBytes = 0;
    this.emit('quota-filled', {});
  }

  freeQuota() {
    this.full = false;
    this.emit('quota-freed', {});
  }

  wrap(store) {
    this.inner = store;
    const faults = this;
    return new Proxy(store, {
      get(target, property, receiver) {
        const value = Reflect.get(target, property, receiver);
        if (typeof value !== 'function') return value;
        // Every write of bytes: a record (put), a tap journal entry (append), a checkpoint (the
        // record, and the user's journal entries removed with it).
        if (property === 'put' || property === 'append' || property === 'checkpoint') {
          return async (key, bytes, journalPrefix) => {
            const needed = bytes.length - (faults.sizes.get(key) ?? 0);
            if (faults.full && needed > faults.freedBytes) {
              faults.counts.quotaErrors += 1;
              faults.emit('quota-exceeded', { key, needed });
              throw faults.quotaError();
            }
            await value.call(target, key, bytes, journalPrefix);
            faults.sizes.set(key, bytes.length);
            if (property === 'checkpoint') {
              for (const [stored, size] of [...faults.sizes]) {
                if (!stored.startsWith(journalPrefix)) continue;
                faults.sizes.delete(stored);
                if (faults.full) faults.freedBytes += size;
              }
            }
            if (faults.full) {
              faults.freedBytes -= needed;
              faults.emit('stored-while-full', { key });
            }
          };
        }
        if (property === 'delete') {
          return async (key) => {
            await value.call(target, key);
            const bytes = faults.sizes.get(key) ?? 0;
            if (faults.full) faults.freedBytes += bytes;
            faults.sizes.delete(key);
            faults.emit('deleted', { key, bytes, whileFull: faults.full });
          };
        }
        if (property === 'get') {
          return async (key) => {
            const bytes = await value.call(target, key);
            if (bytes != null) faults.sizes.set(key, bytes.length);
            return bytes;
          };
        }
        return value.bind(target);
      },
    });
  }

  // Corrupts the stored bytes under `key` behind the client's back. Returns false when nothing
  // is stored there yet.
  async corrupt(key) {
    const stored = await this.inner.get(key);
    if (stored == null || stored.length === 0) return false;
    await this.inner.put(key, flipMiddleByte(stored));
    this.counts.corruptions += 1;
    this.emit('corrupted', { key });
    return true;
  }
}
