// The core's failures as Error subclasses with a stable `code`: one class per ErrorCode of
// src/status.h (the same strings the C++ core, the HTTP API and the logs use), plus the loader's
// own codes. Apps branch on `error.code`; `instanceof` works for the classes too.

export class EarningsError extends Error {
  constructor(code, message, options) {
    super(message, options);
    this.name = 'EarningsError';
    this.code = code;
  }
}

function defineError(name, code) {
  const ErrorClass = class extends EarningsError {
    constructor(message, options) {
      super(code, message, options);
      this.name = name;
    }
  };
  Object.defineProperty(ErrorClass, 'name', { value: name });
  Object.defineProperty(ErrorClass, 'code', { value: code });
  return ErrorClass;
}

export const AmountMalformedError = defineError('AmountMalformedError', 'AMOUNT_MALFORMED');
export const AmountPrecisionError = defineError('AmountPrecisionError', 'AMOUNT_PRECISION');
export const AmountOverflowError = defineError('AmountOverflowError', 'AMOUNT_OVERFLOW');
export const AmountNegativeError = defineError('AmountNegativeError', 'AMOUNT_NEGATIVE');
export const AmountExceedsBudgetError = defineError('AmountExceedsBudgetError', 'AMOUNT_EXCEEDS_BUDGET');
export const RateInvalidError = defineError('RateInvalidError', 'RATE_INVALID');
export const UserIdInvalidError = defineError('UserIdInvalidError', 'USER_ID_INVALID');
export const TimeInvalidError = defineError('TimeInvalidError', 'TIME_INVALID');
export const TimestampOrderError = defineError('TimestampOrderError', 'TIMESTAMP_ORDER');
export const StateInvalidError = defineError('StateInvalidError', 'STATE_INVALID');
export const RecordCorruptError = defineError('RecordCorruptError', 'RECORD_CORRUPT');
export const RecordVersionError = defineError('RecordVersionError', 'RECORD_VERSION');
export const RecordUserMismatchError = defineError('RecordUserMismatchError', 'RECORD_USER_MISMATCH');
export const ResponseInvalidError = defineError('ResponseInvalidError', 'RESPONSE_INVALID');
export const SeqGapError = defineError('SeqGapError', 'SEQ_GAP');
export const RequestInvalidError = defineError('RequestInvalidError', 'REQUEST_INVALID');
export const ConfigInvalidError = defineError('ConfigInvalidError', 'CONFIG_INVALID');

// The wasm file could not be fetched or read (missing file, 404, network failure).
export const WasmNotFoundError = defineError('WasmNotFoundError', 'WASM_NOT_FOUND');
// Bytes arrived but are not this package's module (an HTML page, a truncated or foreign build).
export const WasmInvalidError = defineError('WasmInvalidError', 'WASM_INVALID');
// A method was called on an engine after dispose().
export const EngineDisposedError = defineError('EngineDisposedError', 'ENGINE_DISPOSED');
// The wasm trapped (a core bug); that core instance refuses every later call.
export const CoreFaultError = defineError('CoreFaultError', 'CORE_FAULT');

const classesByCode = new Map(
  [
    AmountMalformedError, AmountPrecisionError, AmountOverflowError, AmountNegativeError,
    AmountExceedsBudgetError, RateInvalidError, UserIdInvalidError, TimeInvalidError,
    TimestampOrderError, StateInvalidError, RecordCorruptError, RecordVersionError,
    RecordUserMismatchError, ResponseInvalidError, SeqGapError, RequestInvalidError,
    ConfigInvalidError, WasmNotFoundError, WasmInvalidError, EngineDisposedError, CoreFaultError,
  ].map((ErrorClass) => [ErrorClass.code, ErrorClass]),
);

export const ErrorCode = Object.freeze(
  Object.fromEntries([...classesByCode.keys()].map((code) => [code, code])),
);

export function hasErrorClass(code) {
  return classesByCode.has(code);
}

// The error for a code reported by the core. An unknown code (a newer core than this JS) still
// becomes an EarningsError carrying that code, never a crash while reporting an error.
export function errorFromCode(code, message, options) {
  const ErrorClass = classesByCode.get(code);
  return ErrorClass ? new ErrorClass(message, options) : new EarningsError(code, message, options);
}
