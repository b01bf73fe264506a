// The friendly face of the C++ core (wasm): what the client runtime, the sync server and apps
// import. It validates arguments before they reach embind, turns the core's error values into
// EarningsError subclasses, converts JSON text to objects, and owns the lifetime of engine
// handles. The raw embind names (underscored) never leave this file.
import {
  ConfigInvalidError,
  CoreFaultError,
  EngineDisposedError,
  RecordCorruptError,
  RequestInvalidError,
  ResponseInvalidError,
  TimeInvalidError,
  UserIdInvalidError,
  WasmInvalidError,
  AmountMalformedError,
  errorFromCode,
  hasErrorClass,
} from './errors.js';
import { compileCoreWasm, instantiateCore } from './loader.js';

export * from './errors.js';

const UNITS_PER_TON = 100000000n;
const MAX_UNITS = 999999999999999999n;

// A trap inside the wasm (a core bug: out-of-bounds access, abort) leaves its memory in an
// unknown state. Nothing may be read from or stored out of that instance again, so the core that
// owns it is marked faulted, every later call throws CORE_FAULT, and loadCore() forgets it so the
// next call starts a fresh instance.
function fault(shared, cause) {
  if (!(cause instanceof WebAssembly.RuntimeError)) return cause;
  if (shared.fault === null) {
    shared.fault = cause;
    shared.onFault();
  }
  return faultError(shared);
}

function faultError(shared) {
  return new CoreFaultError(
    `the wasm core stopped after an internal fault (${shared.fault.message}); ` +
      'call loadCore() again for a fresh core and restore from storage or the server',
    { cause: shared.fault },
  );
}

function unwrap(reply) {
  if (reply.code === '') return reply.text;
  throw errorFromCode(reply.code, reply.text);
}

function unwrapJson(reply) {
  return JSON.parse(unwrap(reply));
}

function requireAmountText(value, what = 'amount') {
  if (typeof value !== 'string') {
    throw new AmountMalformedError(
      `${what} must be a decimal string like "12.5" (got ${typeof value}); money is never a JS number`,
    );
  }
  return value;
}

function isSafeNonNegativeInteger(value) {
  return Number.isSafeInteger(value) && value >= 0;
}

function requireNow(now) {
  if (
    now === null ||
    typeof now !== 'object' ||
    !isSafeNonNegativeInteger(now.wall) ||
    !isSafeNonNegativeInteger(now.mono)
  ) {
    throw new TimeInvalidError(
      'now must be { wall, mono } with both safe integers >= 0 ms (Date.now(), Math.floor(performance.now()))',
    );
  }
  return now;
}

function requireUserId(userId) {
  if (!Number.isSafeInteger(userId) || userId <= 0) {
    throw new UserIdInvalidError(`userId must be a positive safe integer (got ${String(userId)})`);
  }
  return userId;
}

function requireClientId({ clientId: rule }, clientId) {
  if (typeof clientId !== 'string' || !rule.pattern.test(clientId)) throw new ConfigInvalidError(rule.message);
  return clientId;
}

function requireBytes(bytes, what) {
  if (!(bytes instanceof Uint8Array)) {
    throw new RecordCorruptError(`${what} must be a Uint8Array`);
  }
  return bytes;
}

function deepFreeze(value) {
  if (value !== null && typeof value === 'object') Object.values(value).forEach(deepFreeze);
  return Object.freeze(value);
}

function jsonText(value, ErrorClass, what) {
  if (value === null || typeof value !== 'object') {
    throw new ErrorClass(`${what} must be an object`);
  }
  try {
    return JSON.stringify(value);
  } catch (cause) {
    throw new ErrorClass(`${what} cannot be sent to the core: ${cause.message}`, { cause });
  }
}

// Engines not disposed by their owner are freed when collected; absent in old engines, where
// dispose() is the only way (and the documented one).
const engineFinalizer =
  typeof FinalizationRegistry === 'function'
    ? new FinalizationRegistry(({ handle, shared }) => {
        if (shared.fault === null && !handle.isDeleted()) handle.delete();
        shared.live -= 1;
      })
    : null;

// The core's UI throttle (Property 20, src/throttle.h): it decides when subscribers hear an
// update; the caller keeps the latest value and owns the timer. `now` is monotonic ms.
const throttleFinalizer =
  typeof FinalizationRegistry === 'function'
    ? new FinalizationRegistry(({ handle, shared }) => {
        if (shared.fault === null && !handle.isDeleted()) handle.delete();
      })
    : null;

class UiThrottle {
  #handle;
  #shared;

  constructor(shared, handle) {
    this.#shared = shared;
    this.#handle = handle;
    throttleFinalizer?.register(this, { handle, shared }, this);
  }

  // A new value is ready: deliver it now (emitNow), or offer again `delayMs` later, when the
  // quiet window has ended, for the trailing emission (offering meanwhile answers the same
  // deadline).
  offer(nowMono) {
    if (this.#handle === null) {
      throw new EngineDisposedError('this throttle was disposed; create a new one with core.createUiThrottle()');
    }
    if (this.#shared.fault !== null) throw faultError(this.#shared);
    if (!isSafeNonNegativeInteger(nowMono)) {
      throw new TimeInvalidError('nowMono must be a safe integer >= 0 ms (Math.floor(performance.now()))');
    }
    let delayMs;
    try {
      delayMs = this.#handle._offer(nowMono);
    } catch (cause) {
      throw fault(this.#shared, cause);
    }
    return { emitNow: delayMs === 0, delayMs };
  }

  get disposed() {
    return this.#handle === null;
  }

  dispose() {
    if (this.#handle === null) return;
    throttleFinalizer?.unregister(this);
    if (this.#shared.fault === null) this.#handle.delete();
    this.#handle = null;
  }
}

class EarningsEngine {
  #handle;
  #shared;

  constructor(shared, handle) {
    this.#shared = shared;
    this.#handle = handle;
    shared.live += 1;
    engineFinalizer?.register(this, { handle, shared }, this);
  }

  #call(method, ...args) {
    if (this.#handle === null) {
      throw new EngineDisposedError('this engine was disposed; create a new one with core.createEngine()');
    }
    if (this.#shared.fault !== null) throw faultError(this.#shared);
    try {
      return this.#handle[method](...args);
    } catch (cause) {
      throw fault(this.#shared, cause);
    }
  }

  get disposed() {
    return this.#handle === null;
  }

  // The error of the last failed call that reported only a status number (the hot paths).
  #lastError() {
    const { code, text } = this.#call('_lastError');
    return errorFromCode(code, text);
  }

  restore(bytes) {
    unwrap(this.#call('_restore', requireBytes(bytes, 'a stored record')));
  }

  setRate(rate) {
    unwrap(this.#call('_setRate', requireAmountText(rate, 'rate')));
  }

  setActive(active, now) {
    if (typeof active !== 'boolean') throw new ConfigInvalidError('active must be a boolean');
    const { wall, mono } = requireNow(now);
    unwrap(this.#call('_setActive', active, wall, mono));
  }

  tick(now) {
    const { wall, mono } = requireNow(now);
    const changed = this.#call('_tick', wall, mono);
    if (changed < 0) throw this.#lastError();
    return changed === 1;
  }

  addEarnings(amount, now) {
    requireAmountText(amount);
    const { wall, mono } = requireNow(now);
    unwrap(this.#call('_addEarnings', amount, wall, mono));
  }

  // The seed's legacy localStorage entry for this user, as JSON text, into this new engine.
  importLegacy(text, now) {
    if (typeof text !== 'string') throw new RecordCorruptError('a legacy record is JSON text');
    const { wall, mono } = requireNow(now);
    unwrap(this.#call('_importLegacy', text, wall, mono));
  }

  state() {
    return JSON.parse(this.#call('_state'));
  }

  // The id this engine's ops are numbered under (`clientId:seq`): after restore() the record's,
  // which is the one the server knows.
  clientId() {
    return this.#call('_clientId');
  }

  // null when nothing is owed or a backoff wait is running (unless `force`).
  nextSyncRequest(now, { force = false } = {}) {
    const { wall, mono } = requireNow(now);
    const text = unwrap(this.#call('_nextSyncRequest', wall, mono, force === true));
    return text === '' ? null : JSON.parse(text);
  }

  applySyncResponse(response, now) {
    const text =
      typeof response === 'string' ? response : jsonText(response, ResponseInvalidError, 'response');
    const { wall, mono } = requireNow(now);
    return unwrapJson(this.#call('_applySyncResponse', text, wall, mono));
  }

  applySyncFailure(failure, now) {
    const status = failure?.status ?? 0;
    if (!Number.isSafeInteger(status) || status < 0 || status > 999) {
      throw new ResponseInvalidError('failure.status must be an HTTP status, or 0 for a network failure');
    }
    const body = failure?.body ?? '';
    if (typeof body !== 'string') throw new ResponseInvalidError('failure.body must be the answer text');
    const { wall, mono } = requireNow(now);
    return unwrapJson(this.#call('_applySyncFailure', status, body, wall, mono));
  }

  syncDueInMs(now) {
    const { wall, mono } = requireNow(now);
    const due = this.#call('_syncDueInMs', wall, mono);
    if (due < 0) throw this.#lastError();
    return due;
  }

  // The network came back: any backoff wait ends (Property 14).
  onOnline(now) {
    const { wall, mono } = requireNow(now);
    unwrap(this.#call('_onOnline', wall, mono));
  }

  // `serverState` is GET /v1/state's answer { state, serverTime }. A different `clientId`
  // renumbers what is owed from the server's lastSeq for that client.
  recoverFromServer(serverState, now, { clientId = '' } = {}) {
    const text =
      typeof serverState === 'string'
        ? serverState
        : jsonText(serverState, ResponseInvalidError, 'server state');
    if (clientId !== '') requireClientId(this.#shared, clientId);
    const { wall, mono } = requireNow(now);
    return unwrapJson(this.#call('_recoverFromServer', text, clientId, wall, mono));
  }

  // The caller found this user's stored record corrupt and started over (audit + metric).
  reportCorruption(detail) {
    this.#call('_reportCorruption', String(detail));
  }

  // Events raised outside sync answers (clock jumps) since the last call.
  takeEvents() {
    return JSON.parse(this.#call('_takeEvents'));
  }

  // The effective configuration, defaults filled in.
  config() {
    return JSON.parse(this.#call('_config'));
  }

  serialize() {
    const bytes = this.#call('_serialize', false);
    if (bytes === null) throw this.#lastError();
    return bytes;
  }

  // The tap journal (DESIGN.md "The tap journal"), one write at a time: store what checkpoint()
  // or journalEntry() returned, then call stored() once it is stored.
  checkpoint() {
    const bytes = this.#call('_serialize', true);
    if (bytes === null) throw this.#lastError();
    return bytes;
  }

  // { bytes, seq }: bytes empty when nothing changed since the last stored write; null when a
  // checkpoint is due instead.
  journalEntry() {
    const bytes = this.#call('_journalEntry');
    return bytes === null ? null : { bytes, seq: this.#call('_journalSeq') };
  }

  stored() {
    this.#call('_stored');
  }

  // One stored journal entry after the restored record, in order (RECORD_* when refused).
  replayJournal(bytes) {
    unwrap(this.#call('_replayJournal', requireBytes(bytes, 'a journal entry')));
  }

  audit() {
    return JSON.parse(this.#call('_audit'));
  }

  // Storage pressure: keep only the newest `keepEntries` audit entries; returns how many were
  // removed (counted as dropped in the stored audit).
  trimAudit(keepEntries) {
    if (!isSafeNonNegativeInteger(keepEntries)) {
      throw new ConfigInvalidError('keepEntries must be a safe integer >= 0');
    }
    const removed = this.#call('_trimAudit', keepEntries);
    if (removed < 0) throw this.#lastError();
    return removed;
  }

  metrics() {
    return JSON.parse(this.#call('_metrics'));
  }

  conflicts() {
    return JSON.parse(this.#call('_conflicts'));
  }

  dispose() {
    if (this.#handle === null) return;
    engineFinalizer?.unregister(this);
    if (this.#shared.fault === null) this.#handle.delete();
    this.#handle = null;
    this.#shared.live -= 1;
  }
}

class EarningsCore {
  #raw;
  #shared;

  constructor(raw, onFault) {
    this.#raw = raw;
    this.#shared = { live: 0, fault: null, onFault };
    this.version = raw._version();
    // The core's table of every error code, event type and the client-id rule (src/contract.h),
    // read once; the client runtime and the server take these facts from here.
    this.contract = deepFreeze(JSON.parse(raw._contract()));
    this.errorCodes = this.contract.errorCodes.core;
    this.#shared.clientId = { pattern: new RegExp(this.contract.clientId.pattern), message: this.contract.clientId.message };
  }

  // Whether `id` is a client id by the core's rule (contract.clientId).
  isClientId(id) {
    return typeof id === 'string' && this.#shared.clientId.pattern.test(id);
  }

  // '1.5' -> '1.50000000'; negative amounts are allowed here (they are normal in arithmetic),
  // refused by every API that takes money from a caller.
  parseAmount(text) {
    return unwrap(this.#call('_parseAmount', requireAmountText(text)));
  }

  // Exact units (10^-8 TON) of a decimal string, as a BigInt.
  amountToUnits(text) {
    const normalized = this.parseAmount(text);
    const negative = normalized.startsWith('-');
    const [whole, fraction] = (negative ? normalized.slice(1) : normalized).split('.');
    const units = BigInt(whole) * UNITS_PER_TON + BigInt(fraction);
    return negative ? -units : units;
  }

  // 150000000n -> '1.50000000'. Takes only BigInt: a JS number cannot hold every amount exactly.
  formatAmount(units) {
    if (typeof units !== 'bigint') {
      throw new AmountMalformedError('formatAmount takes a BigInt count of 10^-8 TON units');
    }
    if (units > MAX_UNITS || units < -MAX_UNITS) {
      throw errorFromCode('AMOUNT_OVERFLOW', 'amount is larger than 9999999999.99999999');
    }
    const magnitude = units < 0n ? -units : units;
    const fraction = (magnitude % UNITS_PER_TON).toString().padStart(8, '0');
    return `${units < 0n ? '-' : ''}${magnitude / UNITS_PER_TON}.${fraction}`;
  }

  addAmounts(a, b) {
    return unwrap(this.#call('_addAmounts', requireAmountText(a), requireAmountText(b)));
  }

  createEngine({ userId, clientId, seed, config = {} } = {}) {
    requireUserId(userId);
    requireClientId(this.#shared, clientId);
    if (!Number.isInteger(seed) || seed < 0 || seed > 0xffffffff) {
      throw new ConfigInvalidError(
        'seed must be a 32-bit unsigned integer (e.g. from crypto.getRandomValues): it spreads retries of different clients apart',
      );
    }
    const configText = jsonText(config, ConfigInvalidError, 'config');
    if (this.#shared.fault !== null) throw faultError(this.#shared);
    let handle;
    let reply;
    try {
      handle = new this.#raw._Engine();
      reply = handle._init(userId, clientId, seed, configText);
    } catch (cause) {
      throw fault(this.#shared, cause);
    }
    if (reply.code !== '') {
      handle.delete();
      throw errorFromCode(reply.code, reply.text);
    }
    return new EarningsEngine(this.#shared, handle);
  }

  // Property 20: subscribers hear at most one update per `intervalMs`, and the last one is never
  // lost. See UiThrottle above.
  createUiThrottle(intervalMs = 1000) {
    if (!Number.isSafeInteger(intervalMs) || intervalMs < 1) {
      throw new ConfigInvalidError('intervalMs must be a safe integer >= 1');
    }
    if (this.#shared.fault !== null) throw faultError(this.#shared);
    let handle;
    let reply;
    try {
      handle = new this.#raw._UiThrottle();
      reply = handle._init(intervalMs);
    } catch (cause) {
      throw fault(this.#shared, cause);
    }
    if (reply.code !== '') {
      handle.delete();
      throw errorFromCode(reply.code, reply.text);
    }
    return new UiThrottle(this.#shared, handle);
  }

  // Server side: what to credit, queue for review or reject for one sync batch:
  // { row, request: { clientId, ops }, serverNow, config } (see src/credit.h).
  planCredit(request) {
    this.#requireServerBuild('planCredit');
    return unwrapJson(this.#call('_planCredit', jsonText(request, RequestInvalidError, 'planCredit request')));
  }

  // Server side: approving or rejecting one queued review item: { row, item, approve, serverNow }.
  planReviewDecision(request) {
    this.#requireServerBuild('planReviewDecision');
    return unwrapJson(
      this.#call('_planReviewDecision', jsonText(request, RequestInvalidError, 'planReviewDecision request')),
    );
  }

  // Server side: a user's rate changed by the app's backend from serverNow on, the old rate's
  // budget up to then settled: { row, rate, serverNow, config }.
  planRateChange(request) {
    this.#requireServerBuild('planRateChange');
    return unwrapJson(this.#call('_planRateChange', jsonText(request, RequestInvalidError, 'planRateChange request')));
  }

  // The crediting planners are only in the server's build of the core; the client module
  // browsers download leaves them out.
  #requireServerBuild(method) {
    if (typeof this.#raw[`_${method}`] !== 'function') {
      throw new ConfigInvalidError(`${method} is in the server build of the core (server/core.js loads it), not this one`);
    }
  }

  // A full engine configuration (defaults filled in) or CONFIG_INVALID, without an engine.
  engineConfig(config = {}) {
    return unwrapJson(this.#call('_engineConfig', jsonText(config, ConfigInvalidError, 'config')));
  }

  // Whether `bytes` restore cleanly as `userId`'s record; throws the RECORD_* reason otherwise.
  detectCorruption(bytes, userId) {
    requireBytes(bytes, 'a stored record');
    requireUserId(userId);
    unwrap(this.#call('_detectCorruption', bytes, userId));
  }

  planStorageCleanup(request) {
    return unwrapJson(
      this.#call('_planStorageCleanup', jsonText(request, ConfigInvalidError, 'planStorageCleanup request')),
    );
  }

  // The seed's SyncManager.validateData (Property 18). Never throws: what is not a state is an
  // invalid one.
  validateState(state) {
    return this.#validation('_validateState', state);
  }

  // The seed's RecoveryManager.validateRecoveredData (src/conflict.h).
  validateRecoveredData(state) {
    return this.#validation('_validateRecoveredData', state);
  }

  #validation(method, state) {
    if (state === null || typeof state !== 'object') {
      return { ok: false, code: 'STATE_INVALID', message: 'an EarningsState must be an object', flagForReview: true };
    }
    let text;
    try {
      text = JSON.stringify(state);
    } catch (cause) {
      return { ok: false, code: 'STATE_INVALID', message: `the state cannot be read: ${cause.message}`, flagForReview: true };
    }
    return unwrapJson(this.#call(method, text));
  }

  // The seed's RecoveryManager.resolveConflicts (src/conflict.h), pure: no engine changes.
  resolveConflicts(local, server, { config = {} } = {}) {
    if (local === null || typeof local !== 'object') throw errorFromCode('STATE_INVALID', 'local must be an EarningsState');
    const localText = JSON.stringify(local);
    const serverText = jsonText(server, ResponseInvalidError, 'server state');
    const configText = jsonText(config, ConfigInvalidError, 'config');
    return unwrapJson(this.#call('_resolveConflicts', localText, serverText, configText));
  }

  // The document inside a stored record, after checking its envelope and checksum.
  decodeRecord(bytes) {
    return unwrapJson(this.#call('_decodeRecord', requireBytes(bytes, 'a stored record')));
  }

  // The seed's plain-JSON localStorage entry (format v1), converted exactly.
  decodeLegacyRecord(text) {
    if (typeof text !== 'string') throw new RecordCorruptError('a legacy record is JSON text');
    return unwrapJson(this.#call('_decodeLegacyV1', text));
  }

  #call(method, ...args) {
    if (this.#shared.fault !== null) throw faultError(this.#shared);
    try {
      return this.#raw[method](...args);
    } catch (cause) {
      throw fault(this.#shared, cause);
    }
  }

  // Live embind value handles; tests compare it before and after to find leaks.
  liveHandleCount() {
    return this.#raw.count_emval_handles();
  }

  // Engines created and neither disposed nor collected.
  liveEngineCount() {
    return this.#shared.live;
  }

  // Whether a trap inside the wasm stopped this core (then every call throws CORE_FAULT).
  get faulted() {
    return this.#shared.fault !== null;
  }
}

async function createCore(options, forget) {
  const [{ default: factory }, wasmModule] = await Promise.all([
    importFactory(options),
    compileCoreWasm(options),
  ]);
  const raw = await instantiateCore(factory, wasmModule);
  const core = new EarningsCore(raw, forget);
  const unknown = core.errorCodes.filter((code) => !hasErrorClass(code));
  if (unknown.length > 0) {
    throw new WasmInvalidError(
      `the wasm core reports codes this JS does not know (${unknown.join(', ')}): mismatched builds`,
    );
  }
  return Object.freeze(core);
}

async function importFactory({ moduleFactory } = {}) {
  if (moduleFactory !== undefined) return { default: moduleFactory };
  try {
    return await import('../dist/earnings-core.mjs');
  } catch (cause) {
    throw errorFromCode(
      'WASM_NOT_FOUND',
      `cannot load dist/earnings-core.mjs (${cause.message}); run \`npm run build:wasm\``,
      { cause },
    );
  }
}

let defaultCore = null;
const coresByUrl = new Map();
const coresByBinary = new WeakMap();

// One core per source, created on first use. A failed load is forgotten so a later call (after
// the network comes back) tries again.
// A core that faulted is forgotten the same way.
function memoize(cache, key, options) {
  let pending = cache.get(key);
  if (pending === undefined) {
    const forget = () => {
      if (cache.get(key) === pending) cache.delete(key);
    };
    pending = createCore(options, forget);
    cache.set(key, pending);
    pending.catch(forget);
  }
  return pending;
}

export function loadCore(options = {}) {
  if (options === null || typeof options !== 'object') {
    return Promise.reject(new ConfigInvalidError('loadCore options must be an object'));
  }
  const { wasmBinary, wasmUrl } = options;
  if (wasmBinary !== undefined) {
    if (typeof wasmBinary !== 'object' || wasmBinary === null) {
      return Promise.reject(
        errorFromCode('WASM_INVALID', 'wasmBinary must be a Uint8Array, an ArrayBuffer or a WebAssembly.Module'),
      );
    }
    return memoize(coresByBinary, wasmBinary, options);
  }
  if (wasmUrl !== undefined) return memoize(coresByUrl, String(wasmUrl), options);
  if (defaultCore === null) {
    const pending = createCore(options, () => {
      if (defaultCore === pending) defaultCore = null;
    });
    defaultCore = pending;
    pending.catch(() => {
      if (defaultCore === pending) defaultCore = null;
    });
  }
  return defaultCore;
}

