// What one server process remembers about users' rows between syncs, so that the common case (the
// same client syncing again, routed to the same process) costs one statement instead of three.
//
// Two facts per user, both hints that save work, never answers:
//   - exists(userId): this process created or saw the user's row, so a sync can skip the
//     first-contact INSERT ... ON CONFLICT DO NOTHING. Wrong only if the row was deleted since
//     (an emptied table); crediting then finds no row and creates it again (forget()).
//   - rowFor(userId, clientId): the row as this process last wrote it for that client, to plan
//     the client's next sync on without reading. It is stale whenever anything else wrote the
//     row since: another process (round-robin routing, a restart), another client of the same
//     user, a review decision. That costs one wasted plan, never a wrong credit, because
//     writePlans applies a plan only at the revision it was planned on; a row that fails that
//     check must be forgotten. It is never shown to a user: an answer carries a row the database
//     returned in the same group.
//
// Bounded: when full, each part is cleared at once rather than evicted in order; forgetting only
// costs the work it saved (an insert that does nothing, a read).
export class RowCache {
  #known = new Set();
  #written = new Map(); // userId -> { clientId, row }
  #limit;

  constructor({ limit = 100_000 } = {}) {
    this.#limit = limit;
  }

  exists(userId) {
    return this.#known.has(userId);
  }

  // REQUIRES: each user's row exists in the database (ensureUsers ran, or it was read).
  markExisting(userIds) {
    if (this.#known.size + userIds.length > this.#limit) this.#known.clear();
    for (const userId of userIds) this.#known.add(userId);
  }

  rowFor(userId, clientId) {
    const written = this.#written.get(userId);
    return written?.clientId === clientId ? written.row : undefined;
  }

  // `row`: as the database returned it from the write, with `clientId`'s last_seq.
  rememberWritten(userId, clientId, row) {
    if (!this.#written.has(userId) && this.#written.size >= this.#limit) this.#written.clear();
    this.#written.set(userId, { clientId, row });
  }

  // The user's row changed elsewhere (or went away): plan its next sync on a fresh read.
  forgetRow(userId) {
    this.#written.delete(userId);
  }

  // The user's row is gone: its next sync creates it again.
  forget(userId) {
    this.#known.delete(userId);
    this.#written.delete(userId);
  }
}
