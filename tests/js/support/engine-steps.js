// Generated steps played on one wasm engine as a page plays them, on a virtual clock that moves
// only with a step: wall and monotonic time together, and a reload (a new page) starts monotonic
// time again. The core's property tests share the steps every run has (tick, earn, mining, a
// failed sync) and play their own (writes, reloads) around them.
export class EngineStepPlayer {
  constructor(engine, wall) {
    this.engine = engine;
    this.wall = wall;
    this.mono = 1_000;
  }

  now() {
    return { wall: this.wall, mono: this.mono };
  }

  // Plays `step` if it is one of the shared kinds and says whether it was. An earning beyond the
  // budget is refused by the core (AMOUNT_EXCEEDS_BUDGET) and the run goes on, as the app's would.
  play(step) {
    const { engine } = this;
    if (step.kind === 'tick' || step.kind === 'earn') {
      this.wall += step.ms;
      this.mono += step.ms;
      if (step.kind === 'tick') engine.tick(this.now());
      else {
        try {
          engine.addEarnings(step.amount, this.now());
        } catch (error) {
          if (error.code !== 'AMOUNT_EXCEEDS_BUDGET') throw error;
        }
      }
    } else if (step.kind === 'mining') {
      engine.setActive(step.active, this.now());
    } else if (step.kind === 'sync-fails') {
      if (engine.nextSyncRequest(this.now(), { force: true })) engine.applySyncFailure({ status: step.status, body: '' }, this.now());
    } else {
      return false;
    }
    return true;
  }

  // The page reloaded `ms` later and goes on with `engine`, restored by the caller.
  reloaded(engine, ms) {
    this.engine = engine;
    this.wall += ms;
    this.mono = 1_000;
  }
}
