// Opening a user's record when this tab starts to lead: restore it, or quarantine it and start
// over, or import the old app's entry; and the device's client id the server knows this device by.
//
// Contract: a record is never overwritten unless it was restored, quarantined first, or is absent;
// one that cannot be read is left alone (the session runs from memory and the server). A record
// that does not restore (RECORD_ERRORS) is copied to quarantine before anything else is stored,
// and the new engine gets a new client id, as does a record gone while its client id is still
// stored (storage-lost): a damaged or lost outbox's sequence numbers are unknown, and a new id
// keeps new ops from being taken for ones the server already holds. The old app's entry is
// removed only once the record that carries its claim is stored. The tap journal entries stored
// after the record (DESIGN.md "The tap journal") are replayed in order up to the first one the core
// refuses; that one and every one after it, or all of them when the record did not restore, are
// copied to quarantine and a checkpoint (which removes the user's entries) is stored at once, so
// an entry is never counted twice and never dropped unseen. REQUIRES: `owner` is the
// EarningsManager (store, clock, current core, events, legacy, persist, newId).
import { ClientError } from './client-errors.js';
import { clientKey, journalPrefix, quarantineKey, recordKey, QUARANTINE_PREFIX } from './storage/keys.js';

export const RECORD_ERRORS = new Set(['RECORD_CORRUPT', 'RECORD_VERSION', 'RECORD_USER_MISMATCH', 'STATE_INVALID']);

export class RecordRestore {
  constructor(owner) {
    this.owner = owner;
  }

  // REQUIRES: running on the session's queue. Opens the user's record into a new engine and
  // makes the session lead with it; returns { corruption, lost, journal } for the caller to
  // tell the app and fetch the server's row.
  async open(session) {
    const { userId } = session;
    const { store } = this.owner;
    let bytes = null;
    let journal = [];
    // The record and its journal entries in two read transactions run side by side (only this
    // tab, which leads the user, writes them). Entries that cannot be read are as a record that
    // cannot be: nothing may be stored over them.
    const read = () => Promise.all([store.get(recordKey(userId)), store.journal ? store.readJournal(journalPrefix(userId)) : []]);
    try {
      [bytes, journal] = await read().catch(read);
    } catch (error) {
      // A record that exists but cannot be read must not be overwritten by a fresh one: this
      // session keeps its earnings in memory and on the server only.
      session.record.unreadable = true;
      session.record.failed(error);
    }
    session.clientId = await this.clientIdFor(userId);
    let engine = this.createEngine(session);
    let corruption = null;
    let refused = null;
    if (bytes) {
      try {
        engine.restore(bytes);
        ({ engine, refused } = this.replay(session, engine, bytes, journal));
        // The record's outbox numbers ops under its own client id, the one the server knows,
        // whatever the separately stored id says.
        session.clientId = engine.clientId();
      } catch (error) {
        engine.dispose();
        if (!RECORD_ERRORS.has(error.code)) throw error;
        corruption = { error, key: await this.quarantine(userId, bytes) };
        // The damaged outbox's sequence numbers are unknown: a new client id keeps new ops from
        // colliding with ops the server may already hold under the old one.
        session.clientId = await this.clientIdFor(userId, { renew: true });
        engine = this.createEngine(session);
        engine.reportCorruption(`${error.code}: ${error.message}`);
      }
    }
    // A record gone (deleted, nulled, wiped) while this device's client id is still stored is
    // not a new user: what it had sent under that id is unknown, so a new id keeps new ops from
    // being taken for duplicates, and the balance comes back from the server (storage-lost).
    const lost = !bytes && !session.record.unreadable && session.clientIdStored ? session.clientId : null;
    if (lost) {
      session.clientId = await this.clientIdFor(userId, { renew: true });
      engine.dispose();
      engine = this.createEngine(session);
    }
    const imported = !bytes && !session.record.unreadable && this.importLegacy(session, engine);
    // Entries after a record that did not restore (corrupt, lost) follow nothing that is here.
    if (journal.length > 0 && (!bytes || corruption)) {
      refused = { error: new ClientError('RECORD_CORRUPT', 'journal entries follow a record that did not restore'), entries: journal };
    }
    const quarantined = refused && {
      code: refused.error.code,
      message: refused.error.message,
      replayed: journal.length - refused.entries.length,
      quarantineKeys: await this.quarantineJournal(session, refused.entries),
    };
    session.engine = engine;
    session.moveTo('leading');
    session.mirror = null;
    // Counting starts now. A restored record's catch-up (the time the app was closed) is held by
    // the core as unconfirmed until the server's time judges it (the manager's lead asks).
    engine.tick(this.owner.now());
    // A restored record is already stored; a new or rebuilt one must be before anything else, and
    // so must a checkpoint that removes journal entries now quarantined.
    const stored = (!bytes || corruption || refused) && (await this.owner.persist(session));
    // The old entry goes only once its claim is stored here; if storing failed it stays, and the
    // next start imports it again (the claim is for manual review, so a person sees both).
    if (imported && stored) this.forgetLegacy(session.userId);
    // Until the server's row is in, the record's earnings are unknown: every sync retries it. A
    // restart on a fresh core reopens the record stored meanwhile, and the row the app was told
    // is still to come (storage-lost, corruption) stays owed, to be told as `recovered` with after.
    session.pendingRecovery = corruption || lost ? 'record' : session.toldUnrecovered;
    return { corruption, lost, journal: quarantined };
  }

  // The journal entries after a restored record, replayed in order until the core refuses one.
  // Returns the engine holding the record and the entries before that one, and the refused ones.
  replay(session, engine, bytes, journal) {
    for (let i = 0; i < journal.length; i += 1) {
      try {
        engine.replayJournal(journal[i].bytes);
      } catch (error) {
        if (!RECORD_ERRORS.has(error.code)) throw error;
        // A replay refused part-way left the engine between two states: start it again from the
        // record and the entries that replayed (they do again: the engine is deterministic).
        engine.dispose();
        const again = this.createEngine(session);
        again.restore(bytes);
        for (const entry of journal.slice(0, i)) again.replayJournal(entry.bytes);
        return { engine: again, refused: { error, entries: journal.slice(i) } };
      }
    }
    return { engine, refused: null };
  }

  // Copies of refused journal entries, one quarantine key each (the entry's own key after the
  // time). When a copy cannot be stored, the session stores nothing (as for a record it cannot
  // read): the checkpoint would remove the only copy of those earnings.
  async quarantineJournal(session, entries) {
    const { userId } = session;
    const wall = this.owner.clock.wall();
    const keys = [];
    for (const { key, bytes } of entries) {
      const copy = `${quarantineKey(userId, wall)}:journal:${key.slice(key.lastIndexOf(':') + 1)}`;
      try {
        await this.owner.store.put(copy, bytes);
        keys.push(copy);
      } catch (error) {
        this.owner.events.emit('error', { userId, source: 'quarantine', error });
        session.record.unreadable = true;
        session.record.failed(error);
      }
    }
    return keys;
  }

  createEngine(session) {
    return this.owner.core.createEngine({ userId: session.userId, clientId: session.clientId, seed: this.owner.seed, config: this.owner.engineConfig });
  }

  // The old app's entry for this user into the new engine; true when imported. An entry the core
  // refuses (corrupt, another user's, an absurd rate) is reported and left where it is.
  importLegacy(session, engine) {
    if (this.owner.legacy === null) return false;
    try {
      const entry = this.owner.legacy.read(session.userId);
      if (entry === null) return false;
      engine.importLegacy(entry, this.owner.now());
      return true;
    } catch (error) {
      if (error?.code === 'CORE_FAULT') throw error;
      this.owner.events.emit('error', { userId: session.userId, source: 'legacy', error });
      return false;
    }
  }

  forgetLegacy(userId) {
    try {
      this.owner.legacy.forget(userId);
    } catch (error) {
      this.owner.events.emit('error', { userId, source: 'legacy', error });
    }
  }

  // The seed's RecoveryManager.detectCorruption: true when `bytes` would not restore as this
  // user's record (the core runs every check a restore runs).
  detectCorruption(bytes, userId) {
    if (!(bytes instanceof Uint8Array)) return true;
    try {
      this.owner.core.detectCorruption(bytes, userId);
      return false;
    } catch (error) {
      if (RECORD_ERRORS.has(error.code)) return true;
      throw error;
    }
  }

  async quarantine(userId, bytes) {
    const key = quarantineKey(userId, this.owner.clock.wall());
    try {
      await this.owner.store.put(key, bytes);
    } catch (error) {
      this.owner.events.emit('error', { userId, source: 'quarantine', error });
    }
    return key;
  }

  async listQuarantine(userId) {
    return this.owner.store.list(`${QUARANTINE_PREFIX}${userId}:`);
  }

  discardQuarantine(key) {
    if (typeof key !== 'string' || !key.startsWith(QUARANTINE_PREFIX)) {
      return Promise.reject(new ClientError('REQUEST_INVALID', 'not a quarantine key'));
    }
    return this.owner.store.delete(key);
  }

  async clientIdFor(userId, { renew = false } = {}) {
    if (!renew) {
      try {
        const stored = await this.owner.store.get(clientKey(userId));
        if (stored) {
          const text = new TextDecoder().decode(stored);
          if (this.owner.core.isClientId(text)) {
            const session = this.owner.sessions.get(userId);
            if (session) session.clientIdStored = true;
            return text;
          }
        }
      } catch (error) {
        this.owner.events.emit('error', { userId, source: 'storage', error });
      }
    }
    const clientId = this.owner.newId('c');
    try {
      await this.owner.store.put(clientKey(userId), new TextEncoder().encode(clientId));
    } catch (error) {
      this.owner.events.emit('error', { userId, source: 'storage', error });
    }
    return clientId;
  }
}
