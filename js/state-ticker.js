// Keeps one user's balance moving for whoever watches it (a subscriber, a follower tab), and the
// stored record near it: this class decides when a tick runs and when a tick also checkpoints
// the record; what a tick does (bring the engine up to now, tell watchers, store) is its
// delegate's, so it is tested with fake timers and no manager or engine.
//
// Contract: one tick at most is armed, `tickMs` ahead. schedule() arms it only while the
// delegate is ticking (a leading engine, not disposed) and someone watches; an unwatched engine
// is never ticked (accrual is a function of time, brought up to date when the engine is next
// used), and a tick re-arms itself on the same terms once it has run, failed or not. watch() is
// for a new watcher: it arms a tick unless one is armed already, so watchers joining do not push
// the next tick away. A tick passes the delegate `checkpointDue(lastStoredMono)`, true once
// `checkpointMs` of monotonic time passed since the record was last stored (the record then
// holds an anchor accrual is recomputed from, so storing every tick would only cost writes).
// A tick's failure goes to `failed`. cancel() drops the armed tick (a core restart, dispose).
//
// Delegate:
//   ticking()                 false once disposed, or while no engine runs here
//   watched()                 a subscriber or a follower tab sees the state
//   tick({ checkpointDue })   one tick; a promise
//   failed(error)             what tick rejected with
import { SingleTimer } from './scheduler.js';

export class StateTicker {
  constructor(delegate, { clock, timers, tickMs, checkpointMs }) {
    this.delegate = delegate;
    this.clock = clock;
    this.timer = new SingleTimer(timers);
    this.tickMs = tickMs;
    this.checkpointMs = checkpointMs;
  }

  get armed() {
    return this.timer.handle !== null;
  }

  schedule() {
    if (!this.delegate.ticking() || !this.delegate.watched()) return;
    this.timer.schedule(this.tickMs, () => this.tick(), this.clock.mono(), { replace: true });
  }

  watch() {
    if (!this.armed) this.schedule();
  }

  cancel() {
    this.timer.cancel();
  }

  async tick() {
    if (!this.delegate.ticking()) return;
    const checkpointDue = (lastStoredMono) => this.clock.mono() - lastStoredMono >= this.checkpointMs;
    await this.delegate.tick({ checkpointDue }).catch((error) => this.delegate.failed(error));
    this.schedule();
  }
}
