// IndexedDB record store: one object store, one value per key, each put its own transaction, so a
// user's record (state and outbox serialized together by the core) is replaced atomically. It
// keeps a tap journal (`journal`): append() stores one small entry, checkpoint() replaces the record
// and removes the user's entries in one transaction, so a record and the entries it folded in
// never both stand, and readJournal() reads a user's entries in key order in one transaction.
// Connections die in the wild ("connection is closing" after eviction, a version change from
// another tab, Safari backgrounding): a dead handle is dropped and the operation reopens once,
// never reusing it.
import { ClientError, ClientErrorCode } from '../client-errors.js';

const DB_NAME = 'ton-earnings-guard';
const STORE = 'records';

function isQuotaError(error) {
  return error != null && (error.name === 'QuotaExceededError' || error.code === 22);
}

function toStorageError(error) {
  if (error instanceof ClientError) return error;
  const code = isQuotaError(error) ? ClientErrorCode.STORAGE_QUOTA : ClientErrorCode.STORAGE_UNAVAILABLE;
  return new ClientError(code, `IndexedDB: ${error?.name ?? 'Error'}: ${error?.message ?? error}`, { cause: error });
}

function request(req) {
  return new Promise((resolve, reject) => {
    req.onsuccess = () => resolve(req.result);
    req.onerror = () => reject(req.error);
  });
}

export class IndexedDbStore {
  // REQUIRES: `factory` is an IDBFactory (window.indexedDB or fake-indexeddb's).
  constructor(factory, { dbName = DB_NAME, keyRange = globalThis.IDBKeyRange } = {}) {
    this.kind = 'indexeddb';
    this.journal = true;
    this.keyRange = keyRange;
    this.durable = true;
    this.factory = factory;
    this.dbName = dbName;
    this.connection = null;
  }

  // Opens and proves the database usable; private browsing modes and broken profiles fail here
  // (open error, blocked upgrade) rather than on the first real write.
  static async open(factory, options) {
    const store = new IndexedDbStore(factory, options);
    await store.db();
    await store.get('teg:probe');
    return store;
  }

  db() {
    if (this.connection) return this.connection;
    this.connection = new Promise((resolve, reject) => {
      let req;
      try {
        req = this.factory.open(this.dbName, 1);
      } catch (error) {
        reject(toStorageError(error));
        return;
      }
      req.onupgradeneeded = () => req.result.createObjectStore(STORE);
      req.onblocked = () => reject(new ClientError(ClientErrorCode.STORAGE_UNAVAILABLE, 'IndexedDB open blocked'));
      req.onerror = () => reject(toStorageError(req.error));
      req.onsuccess = () => {
        const db = req.result;
        const forget = () => {
          if (this.connection === opened) this.connection = null;
        };
        db.onclose = forget;
        db.onversionchange = () => {
          forget();
          db.close();
        };
        resolve(db);
      };
    });
    const opened = this.connection;
    opened.catch(() => {
      if (this.connection === opened) this.connection = null;
    });
    return opened;
  }

  // `commit`: the body issues all its requests at once, so the transaction is told to commit
  // with them instead of after their answers come back (one round trip to the browser's
  // IndexedDB less per write; the tail of a tap's write).
  async run(mode, body, { commit = false } = {}) {
    for (let attempt = 0; ; attempt += 1) {
      const opened = this.db();
      let db;
      try {
        db = await opened;
      } catch (error) {
        throw toStorageError(error);
      }
      let tx;
      try {
        tx = db.transaction(STORE, mode);
      } catch (error) {
        // InvalidStateError: the connection closed under us. Reopen once, then give up.
        if (this.connection === opened) this.connection = null;
        if (attempt === 0 && error?.name === 'InvalidStateError') continue;
        throw toStorageError(error);
      }
      return new Promise((resolve, reject) => {
        let result;
        tx.oncomplete = () => resolve(result);
        tx.onabort = () => reject(toStorageError(tx.error));
        tx.onerror = (event) => event.preventDefault?.();
        Promise.resolve(body(tx.objectStore(STORE))).then(
          (value) => {
            result = value;
          },
          (error) => {
            try {
              tx.abort();
            } catch {
              // Already finished: the abort handler or completion reports the outcome.
            }
            reject(toStorageError(error));
          },
        );
        if (commit) tx.commit?.();
      });
    }
  }

  async get(key) {
    const value = await this.run('readonly', (store) => request(store.get(key)));
    return value instanceof Uint8Array ? value : value == null ? null : new Uint8Array(value);
  }

  async put(key, bytes) {
    await this.run('readwrite', (store) => request(store.put(Uint8Array.from(bytes), key)), { commit: true });
  }

  async delete(key) {
    await this.run('readwrite', (store) => request(store.delete(key)));
  }

  append(key, bytes) {
    return this.put(key, bytes);
  }

  async checkpoint(key, bytes, journalPrefix) {
    await this.run('readwrite', (store) => {
      store.delete(this.range(journalPrefix));
      return request(store.put(Uint8Array.from(bytes), key));
    }, { commit: true });
  }

  readJournal(prefix) {
    const range = this.range(prefix);
    return this.run('readonly', (store) => Promise.all([request(store.getAllKeys(range)), request(store.getAll(range))])
      .then(([keys, values]) => keys.map((key, i) => ({ key, bytes: new Uint8Array(values[i]) }))));
  }

  // Keys sharing a prefix form the range [prefix, prefix + U+FFFF).
  range(prefix) {
    return this.keyRange.bound(prefix, `${prefix}\uffff`, false, true);
  }

  async list(prefix) {
    const range = this.range(prefix);
    return this.run('readonly', (store) => new Promise((resolve, reject) => {
      const found = [];
      const req = store.openCursor(range);
      req.onerror = () => reject(req.error);
      req.onsuccess = () => {
        const cursor = req.result;
        if (!cursor) {
          resolve(found);
          return;
        }
        found.push({ key: cursor.key, bytes: cursor.value?.byteLength ?? 0 });
        cursor.continue();
      };
    }));
  }

  close() {
    const opened = this.connection;
    this.connection = null;
    opened?.then((db) => db.close(), () => {});
  }
}
