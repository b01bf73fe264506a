// Keeping what this package stores on the device within its budget (Properties 9, 10, 23). The
// core decides what goes (planStorageCleanup, from the store's keys and sizes and what each record
// says: whose it is, whether it is synced, when it was used, what its audit weighs); this class
// reads those facts from the store and the live sessions and carries the plan out.
//
// Contract: nothing unsynced and nothing of the active user or of a live session is ever evicted;
// a live session's audit is trimmed in its engine and stored by its own queue, a stored record's
// audit is trimmed in a throwaway engine and written back only while no session owns it and no
// tab leads its user (unlessLed) and it is still the bytes the plan was made from, and only such
// a record is evicted, and only while it has no tap journal entry. An evicted record takes its
// user's client id with it (that user starts afresh, not storage-lost).
// REQUIRES: `owner` is the EarningsManager (its store, clock, current core, sessions, track and
// persist); the core is read at each use because a core restart replaces it.
import { leaderLockName } from './tabs.js';
import { clientKey, JOURNAL_PREFIX, journalPrefix, RECORD_PREFIX, QUARANTINE_PREFIX, userIdOfJournalKey, userIdOfRecordKey } from './storage/keys.js';

export class StorageCleanup {
  constructor(owner) {
    this.owner = owner;
  }

  // Frees space by the core's eviction plan (Properties 9, 10, 23): quarantined copies and other
  // users' fully synced records go first, then old audit entries; nothing unsynced and nothing of
  // the active user is ever evicted. `queueOwner` is the session whose queue runs this cleanup
  // (its persist hit the quota): its trimmed record is written by that persist's retry. Returns
  // the bytes freed.
  async run(activeUserId, { budgetBytes = this.owner.storageBudgetBytes, queueOwner = null } = {}) {
    // A user's tap journal entries count with the user's record and keep it (they hold earnings
    // the record does not); only that record's checkpoint removes them, never this cleanup.
    const journalBytes = new Map();
    for (const { key, bytes } of await this.owner.store.list(JOURNAL_PREFIX)) {
      const userId = userIdOfJournalKey(key);
      journalBytes.set(userId, (journalBytes.get(userId) ?? 0) + bytes);
    }
    const entries = [];
    // The stored bytes each decision below is made from: it is carried out only on these.
    const readBytes = new Map();
    for (const { key, bytes } of await this.owner.store.list(RECORD_PREFIX)) {
      const userId = userIdOfRecordKey(key);
      const live = userId !== null ? this.owner.sessions.get(userId)?.engine : null;
      const stored = live ? null : await this.owner.store.get(key).catch(() => null);
      if (!live) readBytes.set(key, stored);
      entries.push({
        key,
        bytes,
        live: Boolean(live),
        state: live ? live.state() : this.storedState(stored),
        ...(userId !== null ? { audit: this.auditSizes(userId, live ? live.serialize() : stored), journalBytes: journalBytes.get(userId) ?? 0 } : {}),
      });
    }
    for (const { key, bytes } of await this.owner.store.list(QUARANTINE_PREFIX)) entries.push({ key, bytes });
    if (typeof budgetBytes === 'function') budgetBytes = budgetBytes(entries.reduce((sum, entry) => sum + entry.bytes, 0));
    const plan = this.owner.core.planStorageCleanup({
      entries, budgetBytes, activeUserId, now: this.owner.clock.wall(),
    });
    let freed = 0;
    for (const eviction of plan.evictions ?? []) {
      const evictedUser = userIdOfRecordKey(eviction.key);
      if (evictedUser === null) {
        await this.owner.store.delete(eviction.key);
        freed += eviction.bytes;
        continue;
      }
      // An evicted record was fully synced: its user starts afresh here, not as storage-lost.
      const evicted = await this.unlessLed(evictedUser, async () => {
        if (!(await this.storedAsRead(eviction.key, readBytes))) return false;
        // A tab that led the user after the read may have left entries that follow this record.
        if ((await this.owner.store.list(journalPrefix(evictedUser))).length > 0) return false;
        await this.owner.store.delete(eviction.key);
        await this.owner.store.delete(clientKey(evictedUser));
        return true;
      });
      if (evicted) freed += eviction.bytes;
    }
    // Step 3/4 of the plan: the planner only trims audit entries, never earnings or the outbox.
    for (const trim of plan.trimAudit ?? []) {
      const session = this.owner.sessions.get(trim.userId);
      if (session?.engine) {
        session.engine.trimAudit(trim.keepEntries);
        // Another session's record is written on its own queue, not awaited: that session may
        // itself be waiting for a cleanup, and waiting for it here would deadlock.
        if (session !== queueOwner) this.owner.track(session.run(() => this.owner.persist(session)));
        freed += trim.freedBytes;
        continue;
      }
      if (session) continue;  // another tab leads this user and owns its record
      const trimmed = await this.unlessLed(trim.userId, async () => {
        const stored = await this.storedAsRead(trim.key, readBytes);
        if (!stored) return false;
        const engine = this.restoredCopy(trim.userId, stored);
        try {
          engine.trimAudit(trim.keepEntries);
          const bytes = engine.serialize();
          // A session started while the record was read now owns it: an older copy must not
          // overwrite what it stores.
          if (this.owner.sessions.has(trim.userId)) return false;
          await this.owner.store.put(trim.key, bytes);
          return true;
        } finally {
          engine.dispose();
        }
      });
      if (trimmed) freed += trim.freedBytes;
    }
    return freed;
  }

  // Runs `work` (a read-and-rewrite or a delete of a stored record no session of this tab
  // holds) only while no tab leads the record's user, and answers what it answered, or false
  // when it did not run. The leading tab alone writes a user's record and tap journal (DESIGN.md
  // "The tap journal"): a copy this tab read and rewrote could overwrite the leader's newer
  // checkpoint, after which the leader's journal entries follow a generation that is not stored
  // and are quarantined on the next restore (earnings not counted); a delete would orphan them.
  // This tab's sessions say nothing of other tabs, so the work runs holding the user's leader
  // lock, asked `ifAvailable` (never waits: a held lock means a tab leads, and the user is
  // skipped). While it is held no tab can take the lead; one that opens meanwhile follows and
  // leads when the work ends. Without Web Locks but with a channel another tab may lead unseen,
  // so other users' records are left alone; without tab services this is the only tab.
  async unlessLed(userId, work) {
    const services = this.owner.tabRouting.services;
    if (!services?.locks) return services?.openChannel ? false : work();
    return services.locks.request(leaderLockName(userId), { ifAvailable: true }, (lock) => (lock ? work() : false));
  }

  // The record at `key` if it is still the bytes the plan read, else null. Run holding the user's
  // leader lock: a tab that led the user between the read and the lock (and has closed, or the
  // lock would not be free) may have stored a newer checkpoint, which the plan did not weigh: an
  // eviction would delete its unsynced earnings, and a trim is planned from the older audit.
  async storedAsRead(key, readBytes) {
    const read = readBytes.get(key);
    const stored = await this.owner.store.get(key).catch(() => null);
    if (!read || !stored || read.length !== stored.length) return null;
    return read.every((byte, i) => byte === stored[i]) ? stored : null;
  }

  // A throwaway engine holding `bytes`; the caller disposes it. The record's own client id
  // replaces the placeholder on restore.
  restoredCopy(userId, bytes) {
    const engine = this.owner.core.createEngine({ userId, clientId: 'cleanup', seed: this.owner.seed, config: this.owner.engineConfig });
    try {
      engine.restore(bytes);
    } catch (error) {
      engine.dispose();
      throw error;
    }
    return engine;
  }

  // What the core weighs a record's audit by: its entries and the record serialized with and
  // without them. A record that cannot be restored reports none, so nothing is planned for it.
  auditSizes(userId, recordBytes) {
    let engine;
    try {
      engine = this.restoredCopy(userId, recordBytes);
    } catch {
      return null;
    }
    try {
      const entries = engine.audit().length;
      const serializedBytes = engine.serialize().length;
      engine.trimAudit(0);
      return { entries, serializedBytes, withoutAuditBytes: engine.serialize().length };
    } finally {
      engine.dispose();
    }
  }

  // A stored record's state without loading an engine; null when unreadable (then it counts as
  // unsynced and is kept).
  storedState(bytes) {
    if (!bytes) return null;
    try {
      return this.owner.core.decodeRecord(bytes)?.state ?? null;
    } catch {
      return null;
    }
  }
}
