// The seed's localStorage layout, read once per user to move them onto this package: one key
// holding a JSON map of userId -> LocalEarningsData entry. Only the entry's text goes to the core
// (engine.importLegacy), which reads its float amounts from their printed digits; the rest of the
// map is left to other users' first start.
import { RecordCorruptError } from './errors.js';

export class LegacyEntries {
  // `storage`: a Web Storage (localStorage) holding `key`.
  constructor(storage, key) {
    this.storage = storage;
    this.key = key;
  }

  #readMap() {
    const text = this.storage.getItem(this.key);
    if (text === null) return null;
    let map;
    try {
      map = JSON.parse(text);
    } catch (cause) {
      throw new RecordCorruptError(`legacy key ${this.key} is not JSON: ${cause.message}`);
    }
    if (map === null || typeof map !== 'object' || Array.isArray(map)) {
      throw new RecordCorruptError(`legacy key ${this.key} does not hold a map of users`);
    }
    return map;
  }

  // The user's entry as JSON text, or null when the old app stored nothing for them. JSON.parse
  // then JSON.stringify prints every number as the old app's JSON.stringify did (both print the
  // shortest text of the same double), so the core sees the digits the old app wrote.
  read(userId) {
    const map = this.#readMap();
    const entry = map?.[String(userId)];
    return entry === undefined ? null : JSON.stringify(entry);
  }

  // Called once the imported engine is stored: the user's entry goes, other users' stay.
  forget(userId) {
    const map = this.#readMap();
    if (map === null || !(String(userId) in map)) return;
    delete map[String(userId)];
    if (Object.keys(map).length === 0) this.storage.removeItem(this.key);
    else this.storage.setItem(this.key, JSON.stringify(map));
  }
}
