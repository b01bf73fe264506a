// The last resort when the browser offers no durable storage, and the double used by tests. It
// copies bytes on the way in and out so a caller mutating its buffer cannot change a stored record.
export class MemoryStore {
  constructor() {
    this.kind = 'memory';
    this.durable = false;
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

  async list(prefix) {
    const found = [];
    for (const [key, bytes] of this.entries) {
      if (key.startsWith(prefix)) found.push({ key, bytes: bytes.length });
    }
    return found.sort((a, b) => (a.key < b.key ? -1 : 1));
  }

  close() {}
}
