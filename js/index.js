// Public entry of the client runtime: `createEarningsManager({ endpoint })` with everything else
// defaulted (storage auto-detected, real clocks, browser lifecycle, Telegram when present), and
// every part injectable for tests and custom backends.
import { ConfigInvalidError } from './errors.js';
import { loadCore } from './core.js';
import { LegacyEntries } from './legacy.js';
import { EarningsManager } from './manager.js';
import { browserLifecycle, systemClock, systemTimers } from './scheduler.js';
import { withCompression } from './storage/compress.js';
import { detectStore } from './storage/detect.js';
import { browserTabServices } from './tabs.js';
import { readTelegram } from './telegram.js';
import { createFetchTransport } from './transport.js';

export { EarningsManager } from './manager.js';
export { ClientError, ClientErrorCode } from './client-errors.js';
export * from './errors.js';
export { loadCore } from './core.js';
export { createFetchTransport, devAuth, REQUEST_TIMEOUT_MS, telegramAuth } from './transport.js';
export { readTelegram, userIdFromInitData } from './telegram.js';
export { detectStore } from './storage/detect.js';
export { IndexedDbStore } from './storage/indexeddb.js';
export { LocalStorageStore } from './storage/localstorage.js';
export { TelegramDeviceStore } from './storage/telegram.js';
export { MemoryStore } from './storage/memory.js';
export { EVENT_TYPES } from './events.js';
export { recordKey } from './storage/keys.js';
export { systemClock, systemTimers, browserLifecycle } from './scheduler.js';

// A fifth of Telegram DeviceStorage's 5 MB; IndexedDB has far more, but a user's records never
// need more than a few kilobytes each.
const DEFAULT_STORAGE_BUDGET_BYTES = 1024 * 1024;

function cryptoBytes(count) {
  const bytes = new Uint8Array(count);
  globalThis.crypto.getRandomValues(bytes);
  return bytes;
}

// Options (all optional except a way to reach the server):
//   endpoint       base URL of the sync server (default: this page's origin)
//   auth           ({ userId }) => Authorization header value; default `tma <initData>` in Telegram
//   transport      { sync(request, { keepalive }), fetchState(clientId) } replacing fetch
//   fetch          the fetch used by the default transport
//   storage        a record store, or 'auto' (IndexedDB > Telegram DeviceStorage > localStorage >
//                  memory)
//   clock          { wall(), mono() } ms; timers { setTimeout, clearTimeout, now? }
//   lifecycle      { isOnline(), on(type, listener) } for online/offline/hidden/pagehide
//   telegram       the result of readTelegram(), or null to ignore Telegram
//   tabs           { locks, openChannel } for multi-tab leadership, or null for single tab
//   seed           32-bit integer spreading this client's retries (default random)
//   randomBytes    (n) => Uint8Array used for client ids (default crypto)
//   core           a loaded core, or coreOptions passed to loadCore
//   engineConfig   the core engine's config (rate limits, offline cap, ...)
//   storageBudgetBytes   total bytes this package may keep on the device
//   compress       false to store records uncompressed (default: deflate-raw where available)
//   reloadCore     () => a fresh core, used after the wasm traps (default: loadCore(coreOptions))
//   legacyStorageKey   the localStorage key where the app kept the seed's LocalEarningsData map:
//                  a user with nothing stored here yet is imported from it once (rate, mining
//                  flag; undelivered earnings as one claim for manual review)
export async function createEarningsManager(options = {}) {
  if (options === null || typeof options !== 'object') throw new ConfigInvalidError('options must be an object');
  const env = options.env ?? globalThis;
  const telegram = options.telegram === undefined ? readTelegram(env) : options.telegram;
  const core = options.core ?? await loadCore(options.coreOptions ?? {});
  let store = options.storage ?? 'auto';
  let degraded = [];
  if (store === 'auto') ({ store, degraded } = await detectStore(env));
  if (typeof store?.get !== 'function' || typeof store.put !== 'function') {
    throw new ConfigInvalidError('storage must be "auto" or a record store with get/put/delete/list');
  }
  const transport = options.transport ?? createFetchTransport({
    endpoint: options.endpoint ?? env.location?.origin ?? '',
    auth: options.auth ?? telegram?.authorization ?? null,
    fetch: options.fetch ?? env.fetch?.bind(env),
  });
  const seed = options.seed ?? new DataView(cryptoBytes(4).buffer).getUint32(0);
  if (!Number.isInteger(seed) || seed < 0 || seed > 0xffffffff) throw new ConfigInvalidError('seed must be a 32-bit unsigned integer');
  if (options.compress !== false) store = withCompression(store, env.CompressionStream ? env : globalThis);
  if (store.durable) requestPersistence(env);
  return new EarningsManager({
    core,
    store,
    transport,
    clock: options.clock ?? systemClock,
    timers: options.timers ?? systemTimers,
    lifecycle: options.lifecycle ?? browserLifecycle(env),
    telegram,
    tabServices: options.tabs === undefined ? browserTabServices(env) : options.tabs,
    seed,
    randomBytes: options.randomBytes ?? cryptoBytes,
    engineConfig: options.engineConfig ?? {},
    storageBudgetBytes: options.storageBudgetBytes ?? DEFAULT_STORAGE_BUDGET_BYTES,
    degraded,
    reloadCore: options.reloadCore ?? (() => loadCore(options.coreOptions ?? {})),
    legacy: legacyEntries(options.legacyStorageKey, env),
  });
}

function legacyEntries(key, env) {
  if (key === undefined) return null;
  if (typeof key !== 'string' || key === '') throw new ConfigInvalidError('legacyStorageKey must be a non-empty string');
  let storage = null;
  try {
    storage = env.localStorage ?? null;
  } catch {
    // Access to localStorage throws in some sandboxed frames: then there is nothing to import.
  }
  return storage === null ? null : new LegacyEntries(storage, key);
}

// Asks the browser not to evict this origin's storage (Safari and WebKit views do under
// pressure). The answer only changes eviction odds, so it is not awaited.
function requestPersistence(env) {
  try {
    env.navigator?.storage?.persist?.().catch(() => {});
  } catch {
    // Some embedded views expose storage without persist(): nothing to ask then.
  }
}
