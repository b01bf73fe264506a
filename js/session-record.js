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
// be read (`unreadable`) is never overwritten. flush({ journal: true }) (a tap) may store only what
// changed since the last stored write, as one tap journal entry after the record, where the store
// keeps a journal (IndexedDB, memory; DESIGN.md "The tap journal") and the engine says no
// checkpoint is due; every other write is a checkpoint, which removes the user's journal entries
// in the same transaction. REQUIRES: flush() runs on the session's queue;
// `owner` is the EarningsManager (store, clock, events, cleanup, track).
import { ClientErrorCode } from './client-errors.js';
import { RecordWriter } from './record-writer.js';
import { journalKey, journalPrefix, recordKey } from './storage/keys.js';

export class SessionRecord {
  constructor(owner, session) {
    this.owner = owner;
    this.session = session;
    this.writer = new RecordWriter((options) => this.write(options), { track: (written) => owner.track(written) });
    // Monotonic time of the last stored write (ticks checkpoint from it).
    this.lastCheckpoint = 0;
    this.full = false;
    this.broken = false;
    this.unreadable = false;
  }

  flush(options) {
    return this.writer.flush(options);
  }

  // One write (RecordWriter's): a journal entry when only taps asked for it and one fits, else
  // the record as the engine holds it now.
  async write({ checkpoint }) {
    if (this.unreadable) return false;
    const { engine } = this.session;
    if (!checkpoint && this.owner.store.journal) {
      const entry = engine.journalEntry();
      if (entry !== null) return this.append(engine, entry);
    }
    return this.checkpoint(engine);
  }

  async append(engine, { bytes, seq }) {
    // Nothing changed since the last stored write: what the caller asked for is stored already.
    if (bytes.length === 0) return true;
    try {
      await this.owner.store.append(journalKey(this.session.userId, seq), bytes);
    } catch (error) {
      // A full quota is the checkpoint's to handle (it frees space and retries once).
      if (error.code === ClientErrorCode.STORAGE_QUOTA) return this.checkpoint(engine);
      this.failed(error);
      return false;
    }
    this.stored(engine);
    return true;
  }

  // The engine learns its write is stored; an engine a core restart replaced meanwhile is gone.
  stored(engine) {
    if (!engine.disposed) engine.stored();
  }

  async put(engine, bytes) {
    const { store } = this.owner;
    const key = recordKey(this.session.userId);
    await (store.journal ? store.checkpoint(key, bytes, journalPrefix(this.session.userId)) : store.put(key, bytes));
    this.stored(engine);
    this.full = false;
    this.lastCheckpoint = this.owner.clock.mono();
  }

  async checkpoint(engine) {
    const { owner, session } = this;
    const bytes = engine.checkpoint();
    try {
      await this.put(engine, bytes);
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
          // Taken again: the cleanup may have trimmed this session's own audit.
          await this.put(engine, engine.checkpoint());
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
