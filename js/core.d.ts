// Types of ton-earnings-guard/core (js/core.js). Money is always a decimal string with up to 8
// decimals on input and exactly 8 on output ("12.34567890"); times are safe-integer milliseconds.

/** A decimal string amount of TON, e.g. "12.5" in, "12.50000000" out. Never a JS number. */
export type Amount = string;

/** Wall = Date.now(); mono = Math.floor(performance.now()). Both safe integers >= 0. */
export interface Now {
  wall: number;
  mono: number;
}

export type CoreErrorCode =
  | 'AMOUNT_MALFORMED'
  | 'AMOUNT_PRECISION'
  | 'AMOUNT_OVERFLOW'
  | 'AMOUNT_NEGATIVE'
  | 'AMOUNT_EXCEEDS_BUDGET'
  | 'RATE_INVALID'
  | 'USER_ID_INVALID'
  | 'TIME_INVALID'
  | 'TIMESTAMP_ORDER'
  | 'STATE_INVALID'
  | 'RECORD_CORRUPT'
  | 'RECORD_VERSION'
  | 'RECORD_USER_MISMATCH'
  | 'RESPONSE_INVALID'
  | 'SEQ_GAP'
  | 'REQUEST_INVALID'
  | 'CONFIG_INVALID';

export type LoaderErrorCode = 'WASM_NOT_FOUND' | 'WASM_INVALID' | 'ENGINE_DISPOSED' | 'CORE_FAULT';

export type EarningsErrorCode = CoreErrorCode | LoaderErrorCode;

export class EarningsError extends Error {
  constructor(code: string, message: string, options?: { cause?: unknown });
  readonly code: EarningsErrorCode | string;
}

type ErrorClass<C extends EarningsErrorCode> = {
  new (message: string, options?: { cause?: unknown }): EarningsError & { readonly code: C };
  readonly code: C;
};

export const AmountMalformedError: ErrorClass<'AMOUNT_MALFORMED'>;
export const AmountPrecisionError: ErrorClass<'AMOUNT_PRECISION'>;
export const AmountOverflowError: ErrorClass<'AMOUNT_OVERFLOW'>;
export const AmountNegativeError: ErrorClass<'AMOUNT_NEGATIVE'>;
export const AmountExceedsBudgetError: ErrorClass<'AMOUNT_EXCEEDS_BUDGET'>;
export const RateInvalidError: ErrorClass<'RATE_INVALID'>;
export const UserIdInvalidError: ErrorClass<'USER_ID_INVALID'>;
export const TimeInvalidError: ErrorClass<'TIME_INVALID'>;
export const TimestampOrderError: ErrorClass<'TIMESTAMP_ORDER'>;
export const StateInvalidError: ErrorClass<'STATE_INVALID'>;
export const RecordCorruptError: ErrorClass<'RECORD_CORRUPT'>;
export const RecordVersionError: ErrorClass<'RECORD_VERSION'>;
export const RecordUserMismatchError: ErrorClass<'RECORD_USER_MISMATCH'>;
export const ResponseInvalidError: ErrorClass<'RESPONSE_INVALID'>;
export const SeqGapError: ErrorClass<'SEQ_GAP'>;
export const RequestInvalidError: ErrorClass<'REQUEST_INVALID'>;
export const ConfigInvalidError: ErrorClass<'CONFIG_INVALID'>;
export const WasmNotFoundError: ErrorClass<'WASM_NOT_FOUND'>;
export const WasmInvalidError: ErrorClass<'WASM_INVALID'>;
export const EngineDisposedError: ErrorClass<'ENGINE_DISPOSED'>;
/** The wasm trapped (a core bug): that core refuses every later call; loadCore() gives a fresh one. */
export const CoreFaultError: ErrorClass<'CORE_FAULT'>;

export const ErrorCode: Readonly<{ [C in EarningsErrorCode]: C }>;
export function errorFromCode(code: string, message: string, options?: { cause?: unknown }): EarningsError;
export function hasErrorClass(code: string): boolean;

// The core also loads in a backend whose TypeScript has no DOM library (lib es2022, with or without
// @types/node): the DOM's WebAssembly, URL and Response are named only where they exist, so an
// import of ton-earnings-guard/core type-checks there too.
/** A compiled `WebAssembly.Module` where the WebAssembly types are present, else nothing. */
export type CompiledWasm = typeof globalThis extends {
  WebAssembly: { Module: abstract new (...args: never) => infer M };
} ? M : never;
/** A `URL` where the URL type is present (the DOM, @types/node), else nothing. */
export type WasmUrl = typeof globalThis extends {
  URL: abstract new (...args: never) => infer U;
} ? U : never;
/** What loadCore reads of a `fetch` answer (a browser's or Node's `Response` is one). */
export interface WasmFetchResponse {
  readonly ok: boolean;
  readonly status: number;
  arrayBuffer(): Promise<ArrayBuffer>;
}

export interface LoadCoreOptions {
  /** The wasm bytes (or an already compiled module); wins over wasmUrl. */
  wasmBinary?: Uint8Array | ArrayBuffer | ArrayBufferView | CompiledWasm;
  /** Where to fetch the wasm; default: dist/earnings-core.wasm next to this package. */
  wasmUrl?: string | WasmUrl;
  /** fetch to use for wasmUrl (default: globalThis.fetch). */
  fetch?: (url: string) => Promise<WasmFetchResponse>;
  /** Advanced: a different emscripten build's factory (default: dist/earnings-core.mjs). */
  moduleFactory?: (moduleArg: object) => Promise<unknown>;
}

/** Memoized per source: the same options give the same core. A failed load is retried next call. */
export function loadCore(options?: LoadCoreOptions): Promise<EarningsCore>;

/**
 * The engine's own: 'synced' | 'pending' | 'failed'. The manager's state says what this page
 * session knows of the server instead until an exchange succeeded: 'connecting' (no answer yet),
 * 'unreachable' (no answer in the protocol), 'unauthorized' (401/403), 'refused' (the server
 * refused a request for good).
 */
export type SyncStatus = 'synced' | 'pending' | 'failed' | 'connecting' | 'unreachable' | 'unauthorized' | 'refused';

/** One user's earnings (see src/state.h): money as strings, times as ms. */
export interface EarningsState {
  userId: number;
  currentEarnings: Amount;
  baseEarningRate: Amount;
  lastUpdate: number;
  startDate: number;
  isActive: boolean;
  syncStatus: SyncStatus;
  syncedTotal: Amount;
  pending: Amount;
  heldForVerification: Amount;
  underReview: Amount;
  /** Refused for good by the server on this device (every `rejected` event's amount, summed). */
  rejectedTotal: Amount;
  /**
   * The time the app was closed, as this device's clock claims it, at the rate it was mining at,
   * while no server time has judged it (a reload the server did not answer): shown beside the
   * balance, never inside it. A sync answer or the server's row judges it (`catch-up` event).
   */
  unconfirmed: Amount;
  reviewFlag: boolean;
  // The engine's integrity bookkeeping, stored with the state; read them, never set them.
  /** Server clock minus this device's, once a server answer was seen (hasServerTime). */
  serverOffsetMs: number;
  hasServerTime: boolean;
  /** Whether a (wall, mono) observation was made since the engine started or restored. */
  hasClock: boolean;
  lastWall: number;
  lastMono: number;
  /** Sub-unit accrual carried to the next tick (rate units x ms, below 3,600,000). */
  accrualRemainder: number;
  /** Accrued time since the last acknowledged sync, counted towards the offline cap. */
  unsyncedMs: number;
  /** Time left for app-reported earnings (updateEarnings) at the current rate. */
  budgetMs: number;
  /** The unconfirmed catch-up's start: server time of the last judged observation; -1 when none is held. */
  unconfirmedSince: number;
  /** lastUpdate at that observation. */
  unconfirmedAt: number;
  /** Closed time this device's clock claims since then. */
  unconfirmedMs: number;
  /** The rate it was mining at ('0.00000000': not mining). */
  unconfirmedRate: Amount;
}

/** What a validation says (src/validation.h); `code` is '' when `ok`. */
export interface ValidationResult {
  ok: boolean;
  code: EarningsErrorCode | '';
  message: string;
  /** The state needs a person's look (an invariant broke), not just a retry. */
  flagForReview: boolean;
}

export type OpType = 'accrual' | 'earnings_update' | 'verification';

export interface SyncOp {
  id: string;
  seq: number;
  type: OpType;
  amount: Amount;
  from: number;
  to: number;
  rate: Amount;
}

export interface SyncRequest {
  clientId: string;
  ops: SyncOp[];
  /**
   * What this device asks of the user's mining lease (the client runtime adds it). It also tells
   * the server the client reads per-op `refused`: a request without it is answered as clients
   * from before the lease read it (no `refused`; an op partly counted on another device is
   * answered `duplicate` with what was credited).
   */
  lease?: 'hold' | 'take' | 'release';
}

export type OpStatus = 'applied' | 'duplicate' | 'review' | 'rejected' | 'gap';

export interface OpResult {
  id: string;
  seq: number;
  status: OpStatus;
  credited?: Amount;
  review?: Amount;
  /** Answered to requests with `lease`: the part another device of the user was already paid for (code COUNTED_ON_ANOTHER_DEVICE). */
  refused?: Amount;
  code?: string;
  reason?: string;
  expectedSeq?: number;
}

export interface ServerState {
  userId: number;
  totalEarned: Amount;
  currentEarnings: Amount;
  baseEarningRate: Amount;
  pendingReview: Amount;
  lastSeq: number;
  lastUpdate: number;
  startDate: number;
  isActive: boolean;
  syncStatus: SyncStatus;
}

/** The user's mining lease after a sync (or as GET /v1/state reads it): who holds it until when (server ms). */
export interface MiningLeaseAnswer {
  held: boolean;
  clientId: string | null;
  until: number | null;
}

export interface SyncResponse {
  results: OpResult[];
  state: ServerState;
  serverTime: number;
  lease?: MiningLeaseAnswer;
}

export interface EngineEvent {
  type: string;
  [detail: string]: unknown;
}

export interface EngineConfig {
  [key: string]: unknown;
}

export interface CreateEngineOptions {
  userId: number;
  /** 1..64 characters of [A-Za-z0-9_-]; stable per device/tab so op ids stay unique. */
  clientId: string;
  /** 32-bit unsigned integer seeding the retry jitter (e.g. from crypto.getRandomValues). */
  seed: number;
  config?: EngineConfig;
}

export interface EarningsEngine {
  readonly disposed: boolean;
  /** Loads a stored record; RECORD_CORRUPT / RECORD_VERSION / RECORD_USER_MISMATCH on failure. */
  restore(bytes: Uint8Array): void;
  setRate(rate: Amount): void;
  setActive(active: boolean, now: Now): void;
  /** Accrues up to `now`; true if the balance changed. */
  tick(now: Now): boolean;
  /** The seed's updateEarnings: draws on the local budget; throws and changes nothing on error. */
  addEarnings(amount: Amount, now: Now): void;
  /**
   * On a new engine: the seed's legacy localStorage entry for this user (its JSON text). Rate,
   * mining flag and start date carry over; the earnings its pending earnings_update ops claimed
   * become one `verification` op for manual review. RECORD_CORRUPT / RECORD_VERSION /
   * RECORD_USER_MISMATCH / RATE_INVALID / AMOUNT_OVERFLOW / STATE_INVALID; nothing changes then.
   */
  importLegacy(text: string, now: Now): void;
  state(): EarningsState;
  /** The id this engine numbers ops under (`clientId:seq`); after restore(), the record's. */
  clientId(): string;
  /**
   * The body of POST /v1/sync (freezes the open delta), or null when nothing is owed or a backoff
   * wait is running (unless `force`).
   */
  nextSyncRequest(now: Now, options?: { force?: boolean }): SyncRequest | null;
  applySyncResponse(response: SyncResponse | string, now: Now): { events: EngineEvent[] };
  /**
   * status: the HTTP status, or 0 for a network failure; body: the answer's text as it arrived.
   * Only a 4xx whose body is the protocol's `{"error":{"code","message"}}` with a code saying the
   * request is wrong refuses the sent ops for good (`permanent`); anything else is retried.
   * `code`/`message` are the body's when it had the protocol's error shape.
   */
  applySyncFailure(
    failure: { status: number; body?: string },
    now: Now,
  ): { retryInMs: number; failed: boolean; permanent: boolean; code?: string; message?: string; events: EngineEvent[] };
  /** Milliseconds until a sync should run (0 = now). */
  syncDueInMs(now: Now): number;
  /** The network came back: any backoff wait ends (Property 14). */
  onOnline(now: Now): void;
  /**
   * GET /v1/state's answer. A different `clientId` renumbers what is owed from the server's
   * lastSeq for that client; ops already sent under the old id go to the conflict log.
   */
  recoverFromServer(
    serverState: { state: ServerState; serverTime: number } | string,
    now: Now,
    options?: { clientId?: string },
  ): { events: EngineEvent[] };
  /** The caller found this user's stored record corrupt and started over (audit + metric). */
  reportCorruption(detail: string): void;
  /** Events raised outside sync answers (clock jumps) since the last call. */
  takeEvents(): EngineEvent[];
  /** The effective configuration, defaults filled in. */
  config(): EngineConfig;
  /** The CRC-checked record to store. */
  serialize(): Uint8Array;
  /**
   * The tap journal, one write at a time: store what `checkpoint()` or `journalEntry()` returned,
   * then call `stored()`. `checkpoint()` is the record as the next checkpoint generation (its
   * store removes the user's journal entries in the same transaction). `journalEntry()` carries
   * every tick and earning since the last stored write (`bytes` empty: nothing changed), or is
   * null when a checkpoint is due instead.
   */
  checkpoint(): Uint8Array;
  journalEntry(): { bytes: Uint8Array; seq: number } | null;
  stored(): void;
  /** One stored journal entry after the restored record, in order; RECORD_* when refused. */
  replayJournal(bytes: Uint8Array): void;
  audit(): Array<Record<string, unknown>>;
  /**
   * Storage pressure: keeps only the newest `keepEntries` audit entries (the rest are counted as
   * dropped) and returns how many were removed. CONFIG_INVALID unless a safe integer >= 0.
   */
  trimAudit(keepEntries: number): number;
  metrics(): Record<string, unknown>;
  conflicts(): Array<Record<string, unknown>>;
  /** Frees the wasm memory; later calls throw ENGINE_DISPOSED. Safe to call twice. */
  dispose(): void;
}

/** The core's UI throttle (Property 20, src/throttle.h); the caller keeps the value and the timer. */
export interface UiThrottle {
  readonly disposed: boolean;
  /**
   * A new value is ready at monotonic ms `nowMono`: deliver it now (emitNow), or offer again
   * `delayMs` later for the trailing emission. TIME_INVALID unless a safe integer >= 0.
   */
  offer(nowMono: number): { emitNow: boolean; delayMs: number };
  /** Frees the wasm memory; later calls throw ENGINE_DISPOSED. Safe to call twice. */
  dispose(): void;
}

export interface EarningsCore {
  readonly version: string;
  /** Every ErrorCode the loaded wasm can report (contract.errorCodes.core). */
  readonly errorCodes: readonly string[];
  /**
   * The core's one table of the names every layer shares (src/contract.h): the error codes the
   * core, the loader, the client runtime and the sync server report (a client reports an answer
   * outside the sync protocol as `HTTP_<status>`), the event types of the engine and of the client
   * runtime, and the client-id rule.
   */
  readonly contract: Readonly<{
    errorCodes: Readonly<{
      core: readonly string[];
      loader: readonly string[];
      client: readonly string[];
      server: readonly string[];
      httpStatusPrefix: string;
    }>;
    eventTypes: Readonly<{ engine: readonly string[]; client: readonly string[] }>;
    clientId: Readonly<{ pattern: string; maxLength: number; message: string }>;
  }>;
  /** Whether `id` is a client id by the core's rule (1 to 64 characters of [A-Za-z0-9_-]). */
  isClientId(id: unknown): id is string;
  /** '1.5' -> '1.50000000' (negative allowed); throws AMOUNT_* errors. */
  parseAmount(text: Amount): Amount;
  /** Exact count of 10^-8 TON units. */
  amountToUnits(text: Amount): bigint;
  /** 150000000n -> '1.50000000'. */
  formatAmount(units: bigint): Amount;
  /** Exact sum; AMOUNT_OVERFLOW beyond 9999999999.99999999. */
  addAmounts(a: Amount, b: Amount): Amount;
  createEngine(options: CreateEngineOptions): EarningsEngine;
  /** At most one emission per `intervalMs` (default 1000, a safe integer >= 1), the last never lost. */
  createUiThrottle(intervalMs?: number): UiThrottle;
  /** Server side: credit / review / reject decision for one sync batch (see src/credit.h). */
  planCredit(request: {
    row: Record<string, unknown>;
    ops: SyncOp[];
    serverNow: number;
    config?: Record<string, unknown>;
  }): Record<string, unknown>;
  /** Server side: approve or reject one queued review item (see src/credit.h). */
  planReviewDecision(request: {
    row: Record<string, unknown>;
    item: { id: number; amount: Amount; status: string };
    approve: boolean;
    serverNow: number;
  }): Record<string, unknown>;
  /** Server side: change a user's rate from serverNow on, settling the old rate's budget (see src/credit.h). */
  planRateChange(request: {
    row: Record<string, unknown>;
    rate: Amount;
    serverNow: number;
    config?: Record<string, unknown>;
  }): { row: Record<string, unknown>; previousRate: Amount; settled: Amount; settledFromMs: number | null };
  /** A full engine configuration (defaults filled in); CONFIG_INVALID otherwise. */
  engineConfig(config?: EngineConfig): EngineConfig;
  /** Returns when `bytes` restore cleanly as `userId`'s record; throws the RECORD_* reason otherwise. */
  detectCorruption(bytes: Uint8Array, userId: number): void;
  /**
   * Which stored records to evict or trim to fit a byte budget (see src/storage_budget.h), from
   * the store's listing: each key and its size, with what was read of the record (its state,
   * whether a session holds it, its audit's sizes); the core decides whose each record is and
   * whether it may go.
   */
  planStorageCleanup(request: {
    entries: Array<{
      key: string;
      bytes: number;
      live?: boolean;
      state?: EarningsState | null;
      audit?: { entries: number; serializedBytes: number; withoutAuditBytes: number } | null;
    }>;
    budgetBytes: number;
    activeUserId: number | null;
    now?: number;
    [option: string]: unknown;
  }): { evict: string[]; [detail: string]: unknown };
  /** The seed's SyncManager.validateData: a state as state() gives it, against the core's invariants. Never throws. */
  validateState(state: EarningsState): ValidationResult;
  /** The seed's RecoveryManager.validateRecoveredData: validateState plus nothing owed or held, synced, earnings = server total. */
  validateRecoveredData(state: EarningsState): ValidationResult;
  /**
   * The seed's RecoveryManager.resolveConflicts, pure: the server's row wins and the local pending
   * earnings are rebased on it; a server holding less than the local confirmed total by more
   * than the config's tolerance sets reviewFlag. Throws STATE_INVALID, RESPONSE_INVALID,
   * RECORD_USER_MISMATCH or CONFIG_INVALID.
   */
  resolveConflicts(local: EarningsState, server: ServerState, options?: { config?: EngineConfig }): EarningsState;
  /** The document inside a stored record, after checking envelope and checksum. */
  decodeRecord(bytes: Uint8Array): Record<string, unknown>;
  /** The seed's plain-JSON localStorage entry (v1), converted exactly. */
  decodeLegacyRecord(text: string): Record<string, unknown>;
  /** Live embind value handles (leak tests). */
  liveHandleCount(): number;
  /** Engines neither disposed nor collected. */
  liveEngineCount(): number;
  /** A trap inside the wasm stopped this core: every call throws CORE_FAULT. */
  readonly faulted: boolean;
}
