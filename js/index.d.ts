// Types of ton-earnings-guard (js/index.js), the client runtime. Money is always a decimal string
// ("0.00100000"), never a JS number; user ids are positive safe integers.
import type { Amount, EarningsCore, EarningsError, EarningsState, LoadCoreOptions, ServerState, SyncOp, SyncRequest, ValidationResult } from './core.js';

export * from './core.js';

export type ClientErrorCodeName =
  | 'STORAGE_QUOTA'
  | 'STORAGE_UNAVAILABLE'
  | 'NETWORK'
  | 'USER_NOT_INITIALIZED'
  | 'DISPOSED'
  | 'TAB_LEADER_LOST';

/** Storage, network, tab and lifecycle failures; rule failures are the core's EarningsError classes. */
export class ClientError extends EarningsError {
  constructor(code: ClientErrorCodeName | string, message: string, options?: { cause?: unknown });
  readonly code: ClientErrorCodeName | string;
}
export const ClientErrorCode: Readonly<{ [C in ClientErrorCodeName]: C }>;

/** Where a user's record (state and outbox in one value) lives on the device. */
export interface RecordStore {
  readonly kind: 'indexeddb' | 'localstorage' | 'telegram-device' | 'memory' | string;
  /** False for memory: nothing survives a reload. */
  readonly durable: boolean;
  get(key: string): Promise<Uint8Array | null>;
  /** Replaces the value atomically; rejects with ClientError STORAGE_QUOTA or STORAGE_UNAVAILABLE. */
  put(key: string, bytes: Uint8Array): Promise<void>;
  delete(key: string): Promise<void>;
  list(prefix: string): Promise<Array<{ key: string; bytes: number }>>;
  close(): void;
  /**
   * A store that keeps a tap journal (IndexedDB, memory; docs/DESIGN.md "The tap journal") sets
   * `journal` and has the three methods below; any other store gets the whole record on every tap.
   */
  readonly journal?: boolean;
  /** Stores one journal entry under its own key. */
  append?(key: string, bytes: Uint8Array): Promise<void>;
  /** Replaces the record and deletes every key starting with `journalPrefix`, in one transaction. */
  checkpoint?(key: string, bytes: Uint8Array, journalPrefix: string): Promise<void>;
  /** The values of the keys starting with `prefix`, in key order, read in one transaction. */
  readJournal?(prefix: string): Promise<Array<{ key: string; bytes: Uint8Array }>>;
}

// Each store class merges with an interface of its name that extends RecordStore: the store
// methods are declared once, above, and the classes state only how they open, their kind and
// whether they are durable.
export interface IndexedDbStore extends RecordStore {}
export class IndexedDbStore {
  static open(factory: IDBFactory, options?: { dbName?: string; keyRange?: typeof IDBKeyRange }): Promise<IndexedDbStore>;
  readonly kind: 'indexeddb';
  readonly durable: true;
}
export interface LocalStorageStore extends RecordStore {}
export class LocalStorageStore {
  static open(storage: Storage): LocalStorageStore;
  readonly kind: 'localstorage';
  readonly durable: true;
}
export interface TelegramDeviceStore extends RecordStore {}
export class TelegramDeviceStore {
  constructor(deviceStorage: TelegramDeviceStorage);
  readonly kind: 'telegram-device';
  readonly durable: true;
}
export interface MemoryStore extends RecordStore {}
export class MemoryStore {
  readonly kind: 'memory';
  readonly durable: false;
}

/** The storage key of `userId`'s record (e.g. to inspect or damage it in a test or a demo). */
export function recordKey(userId: number): string;

/** IndexedDB, then Telegram DeviceStorage (inside Telegram), then localStorage, then memory. */
export function detectStore(env?: object): Promise<{ store: RecordStore; degraded: Array<{ kind: string; reason: string }> }>;

export interface TelegramDeviceStorage {
  setItem(key: string, value: string, callback?: (error: unknown, ok?: boolean) => void): void;
  getItem(key: string, callback: (error: unknown, value?: string) => void): void;
  removeItem(key: string, callback?: (error: unknown, ok?: boolean) => void): void;
}

/** What the sync transport reports: status 0 when no HTTP answer arrived. */
export interface TransportReply {
  status: number;
  text: string;
  /** The server's Retry-After in ms (429, 503), or null: no sync is sent before it has passed. */
  retryAfterMs?: number | null;
  /** The address asked, named in `error` events when it did not answer as the sync server. */
  url?: string;
  error?: string;
}

export interface Transport {
  sync(request: SyncRequest, options?: { keepalive?: boolean; userId?: number }): Promise<TransportReply>;
  fetchState(clientId: string, options?: { userId?: number }): Promise<TransportReply>;
}

/** Returns the Authorization header value for the user of a request, e.g. "tma <initData>" or "dev 42". */
export type AuthProvider = (context: { userId?: number }) => string | null | Promise<string | null>;

/**
 * The default transport. A request not answered within `timeoutMs` (default REQUEST_TIMEOUT_MS,
 * 35 s) is given up as one that got no answer (status 0: kept, retried with the same op ids).
 */
export function createFetchTransport(options: {
  endpoint: string;
  auth?: AuthProvider | null;
  fetch?: typeof fetch;
  timeoutMs?: number;
  timers?: Pick<Timers, 'setTimeout' | 'clearTimeout'>;
}): Transport;
export const REQUEST_TIMEOUT_MS: number;
/** `dev <userId>` of each request (or always `fixedUserId`); only for servers started with development identity. */
export function devAuth(fixedUserId?: number): AuthProvider;
export function telegramAuth(initData: string): AuthProvider;

export interface TelegramContext {
  webApp: unknown;
  /** The raw, signed initData: what the server validates. */
  initData: string;
  /** Read from the signed initData (never initDataUnsafe); selects the local record only. */
  userId: number | null;
  deviceStorage: TelegramDeviceStorage | null;
  authorization: AuthProvider;
  onLifecycle(type: 'deactivated' | 'activated' | string, listener: () => void): () => void;
}
export function readTelegram(env?: object): TelegramContext | null;
export function userIdFromInitData(initData: string): number | null;

export interface Clock {
  /** Unix epoch ms. */
  wall(): number;
  /** Monotonic ms (performance.now() rounded down); restarts on reload. */
  mono(): number;
}
export interface Timers {
  setTimeout(callback: () => unknown, ms: number): unknown;
  clearTimeout(handle: unknown): void;
  /**
   * The timers' own time in ms, when it can differ from the injected clock (a manual clock): which
   * of two pending timeouts fires first is judged in it. Without it, in the clock's mono time.
   */
  now?(): number;
}
export interface Lifecycle {
  isOnline(): boolean;
  on(type: 'online' | 'offline' | 'hidden' | 'visible' | 'pagehide', listener: () => void): () => void;
}
export interface TabServices {
  locks: { request(name: string, ...args: unknown[]): Promise<unknown> } | null;
  openChannel: ((name: string) => { postMessage(message: unknown): void; close(): void; onmessage: unknown }) | null;
}
export const systemClock: Clock;
export const systemTimers: Timers;
export function browserLifecycle(win?: object): Lifecycle & { emit(type: string): void; dispose(): void };

export interface CreateEarningsManagerOptions {
  /** Base URL of the sync server; default: the page's origin. */
  endpoint?: string;
  /** Default: `tma <initData>` inside Telegram, none otherwise (use devAuth(userId) in development). */
  auth?: AuthProvider;
  transport?: Transport;
  fetch?: typeof fetch;
  /** A record store, or 'auto' (default). */
  storage?: RecordStore | 'auto';
  clock?: Clock;
  timers?: Timers;
  lifecycle?: Lifecycle;
  /** readTelegram() by default; null to ignore Telegram. */
  telegram?: TelegramContext | null;
  /** Web Locks + BroadcastChannel by default; null for single-tab operation. */
  tabs?: TabServices | null;
  /** 32-bit unsigned seed for retry jitter; default random. */
  seed?: number;
  randomBytes?: (count: number) => Uint8Array;
  core?: EarningsCore;
  coreOptions?: LoadCoreOptions;
  /** The core engine's config (rate limit, offline cap, tolerances); see docs/DESIGN.md. */
  engineConfig?: Record<string, unknown>;
  /** Bytes this package may keep on the device before cleaning up (default 1 MiB). */
  storageBudgetBytes?: number;
  /** A fresh core after the wasm trapped (CORE_FAULT); default loadCore(coreOptions). */
  reloadCore?: () => Promise<EarningsCore>;
  /** Store records deflate-compressed where CompressionStream exists (default true). */
  compress?: boolean;
  /**
   * The localStorage key where the app kept the seed's `LocalEarningsData` map. A user with no
   * record here yet is imported from it once: rate and mining flag carry over, the earnings its
   * pending earnings_update ops claimed become one claim for manual review, and the user's entry
   * is removed once the new record is stored. A refused entry is reported as an `error` event
   * with source 'legacy' and left in place.
   */
  legacyStorageKey?: string;
  /** The global object to read browser APIs from (default globalThis). */
  env?: object;
}

export type SyncOutcomeStatus = 'synced' | 'failed' | 'scheduled';

export interface SyncResult {
  status: SyncOutcomeStatus;
  state: EarningsState;
  /** Per-op answers of the server when it answered. */
  results?: Array<{ id: string; seq: number; status: string; credited?: Amount; review?: Amount; refused?: Amount; code?: string; reason?: string }>;
  /** When the next attempt is due (after a failure, while backing off, or until the server's Retry-After). */
  retryInMs?: number;
  /** True once retries exceeded the core's maxRetries (still retried at the cap). */
  failed?: boolean;
  httpStatus?: number;
  error?: { code: string; message: string };
  /** The server refused the sent ops for good (their amounts are in `state.rejectedTotal`). */
  permanent?: boolean;
  events?: Array<{ type: string; [key: string]: unknown }>;
}

export interface ReconciliationResult {
  /** False when the server could not be reached; nothing changed then. */
  recovered: boolean;
  state: EarningsState;
  /** Conflicts found by this reconciliation (also kept in the engine's conflict log). */
  conflicts: Array<Record<string, unknown>>;
}

export interface CorruptionEvent {
  userId: number;
  code: 'RECORD_CORRUPT' | 'RECORD_VERSION' | 'RECORD_USER_MISMATCH' | 'STATE_INVALID';
  message: string;
  /** Where the damaged bytes are kept for investigation. */
  quarantineKey: string;
  /** Whether the state was rebuilt from the server already; if not, `recovered` (with `after: 'corruption'`) tells when it is. */
  recovered: boolean;
  options: {
    retryRecovery(): Promise<boolean>;
    readQuarantine(): Promise<Uint8Array | null>;
    discardQuarantine(): Promise<void>;
  };
}

export interface ContactEvent {
  userId: number;
  /** The address asked (null for an injected transport that does not say). */
  endpoint: string | null;
  /** 0 when no HTTP answer arrived. */
  httpStatus: number;
  code: string;
  message: string;
}

export interface EarningsEventMap {
  sync: SyncResult & { userId: number };
  conflict: { userId: number; [key: string]: unknown };
  corruption: CorruptionEvent;
  'review-needed': { userId: number; [key: string]: unknown };
  'storage-degraded': { userId: number; store: string; durable: boolean; failed?: Array<{ kind: string; reason: string }>; error?: unknown };
  quota: { userId: number; store: string; freedBytes: number; recordBytes: number };
  'clock-jump': { userId: number; kind?: string; skewMs?: number; [key: string]: unknown };
  /**
   * An op the sync server itself refused for good (never retried): its amount (added to the
   * state's `rejectedTotal`), the server's code and reason.
   */
  rejected: { userId: number; id: string; amount: Amount; code?: string; reason?: string; [key: string]: unknown };
  /**
   * Another device of the user holds the user's mining lease: this one stopped accruing
   * (`state.isActive` false) until `until` (server ms) unless the holder renews it, or until the
   * app starts mining here again (setMining takes the lease over).
   */
  'mining-elsewhere': { userId: number; clientId: string; until: number };
  /** This device holds the mining lease again (it lapsed or was given up) and accrues again. */
  'mining-resumed': { userId: number };
  /** This tab started (isLeader true) or stopped (false, e.g. on dispose) running the user's engine. */
  leader: { userId: number; isLeader: boolean };
  /** No Web Locks here and another tab answered as leader: this tab follows it instead of leading. */
  'leader-refused': { userId: number; reason: string };
  /**
   * A sync answer brought a rate (TON per hour) other than the one the engine accrued at: the
   * server's rate wins (the app's backend set it, or the server caps it). Accrual from now on is
   * at `rate`.
   */
  'rate-changed': { userId: number; previousRate: Amount; rate: Amount };
  /**
   * The state was rebuilt from the server's row (`total`: its total). With `after`: the row came
   * after a `storage-lost` or `corruption` event that said `recovered: false` (a late start
   * answer, the next sync), and the balance is back; raised once.
   */
  recovered: { userId: number; total?: string; after?: 'storage-lost' | 'corruption'; [key: string]: unknown };
  /** This page session's contact with the sync server: no answer in the protocol (server down, wrong endpoint, HTML, 5xx). */
  unreachable: ContactEvent;
  /** The server refused this user's identity (401/403: no or bad initData). */
  unauthorized: ContactEvent;
  /** The server refused a request for good (its error shape, a permanent code); see `rejected` for the ops. */
  refused: ContactEvent;
  /**
   * The user's record vanished while this device's client id was still stored: rebuilt from the
   * server under a new client id. `recovered` false: the server's row did not come in time; when it
   * does, `recovered` is raised with `after: 'storage-lost'`.
   */
  'storage-lost': { userId: number; previousClientId: string; clientId: string; recovered: boolean };
  /**
   * The server's time judged the time the app was closed (held as `state.unconfirmed` until then):
   * `confirmedMs` counted into the balance, `refusedMs` of the device clock's claim (`claimedMs`)
   * refused, e.g. a clock moved forward while the app was closed.
   */
  'catch-up': { userId: number; type: 'catch_up'; claimedMs: number; confirmedMs: number; refusedMs: number };
  /**
   * Tap journal entries stored after the user's record could not be replayed (damaged, another
   * user's or checkpoint's, a gap or a duplicate, or the record itself was lost or corrupt): the
   * state holds the record and the `replayed` entries before the first refused one; the refused
   * ones, with the earnings they carried, are copied to `quarantineKeys` (read them with
   * `recovery.readQuarantine`) and are not counted. `code`/`message` say why the first was refused.
   */
  'journal-quarantined': { userId: number; code: string; message: string; replayed: number; quarantineKeys: string[] };
  /**
   * Something went wrong that the manager handled. source 'sync': a transport failure (the ops
   * stay queued and are retried), with the `endpoint` asked and its `httpStatus` (0: no answer).
   */
  error: { userId?: number; source: string; error: unknown; event?: string; endpoint?: string | null; httpStatus?: number };
}

/** The seed's SyncOperation, as an app that kept its own queue holds it. */
export interface SyncOperation {
  userId: number;
  type: 'earnings_update' | 'state_sync' | 'reconciliation';
  /** For 'earnings_update': `{ amount }`, a decimal string. */
  data?: { amount?: Amount; [key: string]: unknown };
  /** The seed's bookkeeping: the engine numbers, batches and retries ops itself. */
  id?: string;
  timestamp?: number;
  retryCount?: number;
  maxRetries?: number;
}

/** The seed's SyncManager operations. */
export interface SyncOperations {
  /**
   * 'earnings_update' is updateEarnings(userId, data.amount); 'state_sync' is processQueue;
   * 'reconciliation' is reconcileData. Resolves when that has (REQUEST_INVALID for another type).
   */
  queueSync(operation: SyncOperation): Promise<void>;
  /** A state against the core's invariants (core.validateState). */
  validateData(data: EarningsState): ValidationResult;
  processQueue(userId: number): Promise<SyncResult>;
  retryFailedOperations(userId: number): Promise<SyncResult>;
  syncDueInMs(userId: number): number | null;
}

/** The seed's RecoveryManager operations. */
export interface RecoveryOperations {
  /** True when `bytes` would not restore as `userId`'s record. */
  detectCorruption(bytes: Uint8Array, userId: number): boolean;
  /** Server wins, local pending rebased on it, with this manager's engine config (core.resolveConflicts). */
  resolveConflicts(local: EarningsState, server: ServerState): EarningsState;
  /** What a state rebuilt from the server must satisfy (core.validateRecoveredData). */
  validateRecoveredData(data: EarningsState): ValidationResult;
  recoverFromDatabase(userId: number): Promise<EarningsState>;
  listQuarantine(userId: number): Promise<Array<{ key: string; bytes: number }>>;
  readQuarantine(key: string): Promise<Uint8Array | null>;
  discardQuarantine(key: string): Promise<void>;
  conflicts(userId: number): Array<Record<string, unknown>>;
  audit(userId: number): Array<Record<string, unknown>>;
  metrics(userId: number): Record<string, unknown>;
}

export class EarningsManager {
  /** Opens (or recovers) the user's record and starts accruing and syncing; resolves with the state. */
  initializeUser(userId: number): Promise<EarningsState>;
  /** Records an app-reported earning; resolves once it is stored on the device. */
  updateEarnings(userId: number, amount: Amount): Promise<void>;
  /** Starts or stops mining, optionally at a new rate (TON per hour). */
  setMining(userId: number, options: { active: boolean; rate?: Amount }): Promise<void>;
  /** Sends the outbox now; `force` ignores a pending backoff. Never rejects for network failures. */
  syncToDatabase(userId: number, force?: boolean): Promise<SyncResult>;
  /** Stops network attempts until the browser reports online or syncToDatabase is called. */
  handleOfflineMode(userId: number): void;
  /** Rebuilds the state on the server's, keeping local unacknowledged earnings. */
  reconcileData(userId: number): Promise<ReconciliationResult>;
  /**
   * The current state (a follower tab's mirror of the leader's). Throws USER_NOT_INITIALIZED until
   * initializeUser(userId) has resolved.
   */
  state(userId: number): EarningsState;
  /** Whether this tab runs the user's engine or mirrors the leader tab. */
  isLeader(userId: number): boolean;
  /** 'indexeddb' | 'telegram-device' | 'localstorage' | 'memory'. */
  readonly storageKind: string;
  /** At most one call per second per user, always including the latest change. */
  subscribe(userId: number, listener: (state: EarningsState) => void): () => void;
  on<K extends keyof EarningsEventMap>(type: K, listener: (event: EarningsEventMap[K]) => void): () => void;
  readonly sync: SyncOperations;
  readonly recovery: RecoveryOperations;
  /** Resolves when no storage or network work started so far is running. */
  settled(): Promise<void>;
  /** Stops timers, hands leadership to another tab and frees engines; stored records stay. */
  dispose(): Promise<void>;
}

export function createEarningsManager(options?: CreateEarningsManagerOptions): Promise<EarningsManager>;

export const EVENT_TYPES: ReadonlyArray<keyof EarningsEventMap>;
export type { Amount, EarningsState, ServerState, SyncOp, SyncRequest, ValidationResult };
