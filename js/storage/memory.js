// The last resort when the browser offers no durable storage, and the double used by tests. It
// copies bytes on the way in and out so a caller mutating its buffer cannot change a stored record.
export class MemoryStore {
  constructor() {
    this.kind = 'memory';
    this.durable = false;
    // The tap journal as IndexedDbStore keeps it (checkpoint() is one step here, so atomic).
    this.journal = true;
    this.entries = new Map();
  }

  async get(key) {
    const bytes = this.entries.get(key);
    return bytes ? bytes.slice() : null;
  }

  async put(key, bytes) {
    this.entries.set(key, Uint8Array.from(bytes));
  }

  async delete(key) {
    this.entries.delete(key);
  }

  async append(key, bytes) {
    this.entries.set(key, Uint8Array.from(bytes));
  }

  async checkpoint(key, bytes, journalPrefix) {
    for (const stored of [...this.entries.keys()]) {
      if (stored.startsWith(journalPrefix)) this.entries.delete(stored);
    }
    this.entries.set(key, Uint8Array.from(bytes));
  }

  async readJournal(prefix) {
    return (await this.list(prefix)).map(({ key }) => ({ key, bytes: this.entries.get(key).slice() }));
  }

  async list(prefix) {
    const found = [];
    for (const [key, bytes] of this.entries) {
      if (key.startsWith(prefix)) found.push({ key, bytes: bytes.length });
    }
    return found.sort((a, b) => (a.key < b.key ? -1 : 1));
  }

  close() {}
}
