// One user's mining lease as this device knows it (issue 12 part 7). The sync server keeps one
// lease per user (server/migrations/025, src/credit.h): the device holding it mines, and another
// device of the same user stops accruing while it is held, so the user's devices never claim the
// same hours and all show the server's balance.
//
// Contract: every sync this device sends says what it asks of the lease (`intent()`): "take" once
// after the app started mining here (setMining active: the user's explicit start takes the lease
// over from another device), "release" once after it stopped, else "hold" while this device mines
// or waits for the lease, "release" while it does not. `answered()` reads the lease from a sync
// answer and says what the engine must do: 'pause' (another device holds it: stop accruing until
// it lapses) or 'resume' (this device holds it again, or it is free). While paused, or with a
// take/release to tell, a sync is sent even with no ops owed (`needsSync()`): the answer brings the
// balance the other device earns, so both show the server's, and whether the lease lapsed. The
// lease sets no timer of its own: its intent rides on the syncs the loop sends anyway (at most a
// sync interval apart, and after failures no sooner than the core's backoff allows), so a takeover
// or a lapse is acted on within a sync interval and an outage is never hammered. An answer without
// a lease (a server that predates it) changes nothing. A pause lives in memory: after a reload the
// engine's stored mining flag is off and the app's next setMining takes the lease.
export class MiningLease {
  constructor() {
    // 'take' | 'release' | null: the app's last start or stop, until a sync carried it.
    this.pending = null;
    // { clientId, until } while another device holds the lease and this one waits.
    this.elsewhere = null;
  }

  // The app started (true) or stopped (false) mining on this device.
  miningSet(active) {
    this.pending = active ? 'take' : 'release';
    if (!active) this.elsewhere = null;
  }

  intent(engineActive) {
    return this.pending ?? (engineActive || this.elsewhere ? 'hold' : 'release');
  }

  needsSync() {
    return this.pending !== null || this.elsewhere !== null;
  }

  // `lease`: the answer's lease (undefined from an older server); `sent`: the intent it answers.
  answered(lease, sent, engineActive) {
    if (this.pending === sent) this.pending = null;
    if (!lease || typeof lease !== 'object') return null;
    const heldElsewhere = lease.held !== true && typeof lease.clientId === 'string' && Number.isSafeInteger(lease.until);
    if (heldElsewhere && (engineActive || this.elsewhere)) {
      this.elsewhere = { clientId: lease.clientId, until: lease.until };
      return engineActive ? 'pause' : null;
    }
    if (!heldElsewhere && this.elsewhere) {
      this.elsewhere = null;
      return 'resume';
    }
    return null;
  }
}
