// localStorage record store, for browsers where IndexedDB is missing, blocked or broken. Values are
// base64 (localStorage holds strings only); one setItem per record keeps the replace atomic.
import { ClientError, ClientErrorCode } from '../client-errors.js';
import { base64ToBytes, bytesToBase64 } from './encoding.js';

function isQuotaError(error) {
  return error != null && (error.name === 'QuotaExceededError' || error.code === 22
    || error.name === 'NS_ERROR_DOM_QUOTA_REACHED');
}

function wrap(operation) {
  try {
    return operation();
  } catch (error) {
    const code = isQuotaError(error) ? ClientErrorCode.STORAGE_QUOTA : ClientErrorCode.STORAGE_UNAVAILABLE;
    throw new ClientError(code, `localStorage: ${error?.message ?? error}`, { cause: error });
  }
}

export class LocalStorageStore {
  // REQUIRES: `storage` implements the Web Storage interface (window.localStorage).
  constructor(storage) {
    this.kind = 'localstorage';
    this.durable = true;
    this.storage = storage;
  }

  // Safari's private mode and disabled site data throw on the first write, not on access.
  static open(storage) {
    const store = new LocalStorageStore(storage);
    wrap(() => {
      storage.setItem('teg:probe', '1');
      storage.removeItem('teg:probe');
    });
    return store;
  }

  async get(key) {
    const text = wrap(() => this.storage.getItem(key));
    return text == null ? null : base64ToBytes(text);
  }

  async put(key, bytes) {
    const text = bytesToBase64(bytes);
    wrap(() => this.storage.setItem(key, text));
  }

  async delete(key) {
    wrap(() => this.storage.removeItem(key));
  }

  async list(prefix) {
    return wrap(() => {
      const found = [];
      for (let i = 0; i < this.storage.length; i += 1) {
        const key = this.storage.key(i);
        // Budgeted in stored characters: that is what the origin's quota counts.
        if (key?.startsWith(prefix)) found.push({ key, bytes: this.storage.getItem(key).length });
      }
      return found.sort((a, b) => (a.key < b.key ? -1 : 1));
    });
  }

  close() {}
}
