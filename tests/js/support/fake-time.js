// Virtual wall and monotonic clocks with timers that fire only when a test advances time, so
// sync deadlines and backoff schedules are checked without sleeping. `advance` awaits each timer
// callback's promise before firing the next, which makes every run of a test identical.
export class FakeTime {
  constructor({ wall = 1_700_000_000_000, mono = 1_000 } = {}) {
    this.wallMs = wall;
    this.monoMs = mono;
    this.timers = new Map();
    this.nextHandle = 1;
    this.clock = { wall: () => this.wallMs, mono: () => this.monoMs };
  }

  // A group's timers die together: a killed tab stops firing, like a closed page.
  group() {
    const handles = new Set();
    let alive = true;
    return {
      setTimeout: (callback, ms) => {
        if (!alive) return 0;
        const handle = this.setTimeout(callback, ms);
        handles.add(handle);
        return handle;
      },
      clearTimeout: (handle) => {
        handles.delete(handle);
        this.clearTimeout(handle);
      },
      kill: () => {
        alive = false;
        for (const handle of handles) this.clearTimeout(handle);
        handles.clear();
      },
      pending: () => [...handles].filter((handle) => this.timers.has(handle)).length,
      // The timers' own time: timers fire by monoMs, whatever clock a test injects beside them.
      now: () => this.monoMs,
    };
  }

  setTimeout(callback, ms) {
    const handle = this.nextHandle;
    this.nextHandle += 1;
    this.timers.set(handle, { due: this.monoMs + Math.max(0, ms), callback, order: handle });
    return handle;
  }

  clearTimeout(handle) {
    this.timers.delete(handle);
  }

  nextDue() {
    let next = null;
    for (const [handle, timer] of this.timers) {
      if (!next || timer.due < next.timer.due || (timer.due === next.timer.due && timer.order < next.timer.order)) {
        next = { handle, timer };
      }
    }
    return next;
  }

  async advance(ms) {
    const target = this.monoMs + ms;
    for (;;) {
      const next = this.nextDue();
      if (!next || next.timer.due > target) break;
      this.timers.delete(next.handle);
      this.tick(next.timer.due - this.monoMs);
      await next.timer.callback();
    }
    this.tick(target - this.monoMs);
  }

  tick(ms) {
    this.wallMs += ms;
    this.monoMs += ms;
  }

  // A page reload: performance.now() restarts near zero while the wall clock runs on.
  reload(gapMs = 0) {
    this.wallMs += gapMs;
    this.monoMs = 1_000;
    this.timers.clear();
  }

  // The user (or NTP) moves the device clock; monotonic time is unaffected.
  jumpWall(deltaMs) {
    this.wallMs += deltaMs;
  }
}

// Deterministic 32-bit generator for test data (mulberry32).
export function seededRandom(seed) {
  let state = seed >>> 0;
  return () => {
    state = (state + 0x6d2b79f5) >>> 0;
    let t = state;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}
