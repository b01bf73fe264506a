// Who hears one user's state, and when (Property 20): subscribers hear at most once per window,
// and always get the last change.
//
// Contract: the core's throttle decides when subscribers hear; this class keeps the timer for the
// trailing emission. When that timer fires the window has been waited out in the timers' time, so
// throttle time is carried up to the deadline: a clock that did not move meanwhile (paused,
// manual) still gets the waiting update delivered instead of deferred again and again. A listener
// that throws does not stop the others; its error goes to the delegate. The throttle is made
// again when the core was replaced (a restart after CORE_FAULT).
//
// Delegate:
//   core()          the current core (it makes the throttle)
//   state()         the state to deliver, read when it is delivered
//   failed(error)   a listener threw
//   coreFault()     a CORE_FAULT hit the throttle: restart the core; a promise, or null when not
import { SingleTimer } from './scheduler.js';

export class Subscribers {
  constructor(delegate, { clock, timers, windowMs }) {
    this.delegate = delegate;
    this.clock = clock;
    this.windowMs = windowMs;
    this.listeners = new Set();
    this.throttle = null;
    this.throttleCore = null;
    // Throttle time never runs slower than the trailing timer: see notify().
    this.throttleFloor = 0;
    this.trailingEmit = new SingleTimer(timers);
  }

  get size() {
    return this.listeners.size;
  }

  // Returns the call that removes `listener`.
  add(listener) {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  }

  notify() {
    if (this.listeners.size === 0) return;
    try {
      const now = Math.max(this.clock.mono(), this.throttleFloor);
      const { emitNow, delayMs } = this.throttleOfCore().offer(now);
      if (emitNow) {
        this.trailingEmit.cancel();
        this.emit();
        return;
      }
      const dueAt = now + delayMs;
      this.trailingEmit.schedule(delayMs, () => {
        this.throttleFloor = Math.max(this.throttleFloor, dueAt);
        this.notify();
      }, now);
    } catch (error) {
      if (error?.code !== 'CORE_FAULT') throw error;
      this.delegate.coreFault()?.then(() => this.notify(), () => {});
    }
  }

  throttleOfCore() {
    const core = this.delegate.core();
    if (this.throttleCore !== core) {
      this.throttle?.dispose();
      this.throttle = core.createUiThrottle(this.windowMs);
      this.throttleCore = core;
    }
    return this.throttle;
  }

  emit() {
    const state = this.delegate.state();
    for (const listener of [...this.listeners]) {
      try {
        listener(state);
      } catch (error) {
        this.delegate.failed(error);
      }
    }
  }

  dispose() {
    this.trailingEmit.cancel();
    this.listeners.clear();
    this.throttle?.dispose();
  }
}
