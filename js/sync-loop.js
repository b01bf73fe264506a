// When one user's outbox goes to the sync server (Replicache's connection loop): this class
// decides when a sync is sent and owns nothing else; everything it does to the world (ask the
// engine when it is due, send a request, build an answer, report a failure) goes through its
// delegate, so it is tested without a manager, an engine or a network.
//
// Contract: at most one sync runs at a time; a sync asked for while one runs waits for it and
// then decides afresh. A sync is sent only when forced or due (`delegate.dueInMs()` is 0), and
// never before the server's Retry-After (`holdFor`) has passed, forced or not; otherwise it
// resolves with `delegate.scheduled(retryInMs)` and sends nothing. After every sent sync, and
// whenever `schedule()` is called, one timer is armed for the next due time; none while offline
// (`goOffline`, until `setOffline(false)`) or while `delegate.canSync()` says no.
//
// Delegate:
//   canSync()             false when no timer may be armed (disposed, another tab leads, browser offline)
//   dueInMs()             ms until the engine wants to send; a negative or non-integer value: nothing to send
//   exchange({keepalive}) one request and its answer; resolves with the sync's outcome
//   scheduled(retryInMs)  the outcome of a sync that is not sent now
//   due()                 the timer fired: sync now (the owner's front door, forced)
//   failed(error)         what due() rejected with
import { SingleTimer } from './scheduler.js';

export class SyncLoop {
  // `track(promise)` lets the owner wait for syncs in flight (settled(), dispose()).
  constructor(delegate, { clock, timers, track = () => {} }) {
    this.delegate = delegate;
    this.clock = clock;
    this.timer = new SingleTimer(timers);
    this.track = track;
    this.syncing = null;
    this.offline = false;
    // Monotonic time before which the server asked not to be sent a sync (its Retry-After).
    this.retryNotBefore = 0;
  }

  // The server's Retry-After, in ms from now.
  holdFor(ms) {
    if (ms > 0) this.retryNotBefore = this.clock.mono() + ms;
  }

  // ms until the server's last Retry-After has passed, 0 when it has.
  retryAfterWait() {
    return Math.max(0, Math.ceil(this.retryNotBefore - this.clock.mono()));
  }

  // The seed's offline switch: no timer until setOffline(false); a sync asked for is still sent.
  goOffline() {
    this.offline = true;
    this.timer.cancel();
  }

  setOffline(offline) {
    this.offline = offline;
  }

  cancel() {
    this.timer.cancel();
  }

  schedule() {
    if (this.offline || !this.delegate.canSync()) return;
    const engineDue = this.delegate.dueInMs();
    if (!Number.isSafeInteger(engineDue) || engineDue < 0) return;
    const due = Math.max(engineDue, this.retryAfterWait());
    this.timer.schedule(due, () => this.delegate.due().catch((error) => this.delegate.failed(error)), this.clock.mono());
  }

  // Without `force`, a sync waiting out a backoff stays waiting.
  async sync(force, { keepalive = false } = {}) {
    while (this.syncing) await this.syncing.catch(() => {});
    // The server's Retry-After holds even a forced sync: it said when it will take one again, and
    // the ops wait in the outbox meanwhile.
    const told = this.retryAfterWait();
    if (told > 0 || (!force && this.delegate.dueInMs() > 0)) {
      return this.delegate.scheduled(Math.max(told, this.delegate.dueInMs()));
    }
    this.syncing = this.delegate.exchange({ keepalive });
    this.track(this.syncing);
    try {
      return await this.syncing;
    } finally {
      this.syncing = null;
      this.schedule();
    }
  }
}
