// One user's stored record, as this tab writes it: every store of it, what happens when the
// browser's quota runs out, and what the app is told when storage fails.
//
// Contract: flush() stores the record by a write that starts after the call (RecordWriter's
// group commit: calls made while a write runs share the next one) and resolves true once stored,
// false when storage failed; a failure is told once per session (`storage-degraded`), a full
// quota once per episode (`quota`, again only after a write succeeded meanwhile). On a full quota
// the storage cleanup frees space as if half of what is stored were allowed, which never evicts
// anything unsynced, and the write is tried once more; still full, the last stored record stays as
// it was and the session carries on from memory and the server. A record that exists but could not
// be read (`unreadable`) is never overwritten. REQUIRES: flush() runs on the session's queue;
// `owner` is the EarningsManager (store, clock, events, cleanup, track).
import { ClientErrorCode } from './client-errors.js';
import { RecordWriter } from './record-writer.js';
import { recordKey } from './storage/keys.js';

export class SessionRecord {
  constructor(owner, session) {
    this.owner = owner;
    this.session = session;
    this.writer = new RecordWriter(() => this.write(), { track: (written) => owner.track(written) });
    // Monotonic time of the last stored write (ticks checkpoint from it).
    this.lastCheckpoint = 0;
    this.full = false;
    this.broken = false;
    this.unreadable = false;
  }

  flush() {
    return this.writer.flush();
  }

  // One write of the record as the engine holds it now (RecordWriter's write).
  async write() {
    const { owner, session } = this;
    if (this.unreadable) return false;
    const bytes = session.engine.serialize();
    try {
      await owner.store.put(recordKey(session.userId), bytes);
      this.full = false;
      this.lastCheckpoint = owner.clock.mono();
      return true;
    } catch (error) {
      if (error.code !== ClientErrorCode.STORAGE_QUOTA) {
        this.failed(error);
        return false;
      }
      // The browser's quota, not our budget, ran out: plan as if half of what we store were
      // allowed, which still never evicts anything unsynced.
      const freed = await owner.cleanup.run(session.userId, {
        budgetBytes: (usage) => Math.max(1, Math.floor(usage / 2)),
        queueOwner: session,
      }).catch(() => 0);
      if (freed > 0) {
        try {
          // Serialized again: the cleanup may have trimmed this session's own audit.
          await owner.store.put(recordKey(session.userId), session.engine.serialize());
          this.full = false;
          return true;
        } catch (retryError) {
          if (retryError.code !== ClientErrorCode.STORAGE_QUOTA) {
            this.failed(retryError);
            return false;
          }
        }
      }
      // Still full: the last stored record stays as it was, this tab carries on from memory, and
      // the sync server becomes the only safe place for new earnings.
      if (!this.full) {
        this.full = true;
        owner.events.emit('quota', { userId: session.userId, store: owner.store.kind, freedBytes: freed, recordBytes: bytes.length });
      }
      return false;
    }
  }

  failed(error) {
    if (this.broken) return;
    this.broken = true;
    this.owner.events.emit('storage-degraded', { userId: this.session.userId, store: this.owner.store.kind, durable: false, error });
  }
}
