// Picks the most durable record store the environment offers. Order: IndexedDB (large, async,
// transactional); Telegram DeviceStorage inside a Telegram client that has it (Telegram clients
// have wiped localStorage); localStorage; memory last, reported as degraded so the app can warn
// that earnings not yet synced will not survive a reload.
import { IndexedDbStore } from './indexeddb.js';
import { LocalStorageStore } from './localstorage.js';
import { MemoryStore } from './memory.js';
import { TelegramDeviceStore } from './telegram.js';

// Returns { store, degraded: [{ kind, reason }] } listing every medium that was tried and failed.
export async function detectStore(env = globalThis) {
  const degraded = [];
  const indexedDB = safeGet(() => env.indexedDB);
  if (indexedDB) {
    try {
      return { store: await IndexedDbStore.open(indexedDB, { keyRange: env.IDBKeyRange }), degraded };
    } catch (error) {
      degraded.push({ kind: 'indexeddb', reason: error.message });
    }
  } else {
    degraded.push({ kind: 'indexeddb', reason: 'not available' });
  }
  const deviceStorage = safeGet(() => env.Telegram?.WebApp?.DeviceStorage);
  if (deviceStorage && typeof deviceStorage.setItem === 'function') {
    return { store: new TelegramDeviceStore(deviceStorage), degraded };
  }
  const localStorage = safeGet(() => env.localStorage);
  if (localStorage) {
    try {
      return { store: LocalStorageStore.open(localStorage), degraded };
    } catch (error) {
      degraded.push({ kind: 'localstorage', reason: error.message });
    }
  } else {
    degraded.push({ kind: 'localstorage', reason: 'not available' });
  }
  return { store: new MemoryStore(), degraded };
}

// Sandboxed iframes and disabled site data throw SecurityError on mere property access.
function safeGet(read) {
  try {
    return read();
  } catch {
    return undefined;
  }
}
