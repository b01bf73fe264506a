// Failures of the client runtime (storage, network, tabs, misuse) as EarningsError subclasses with
// a stable `code`, so an app branches on `error.code` the same way for the core's rule errors and
// for these.
import { EarningsError } from './errors.js';

export class ClientError extends EarningsError {
  constructor(code, message, options) {
    super(code, message, options);
    this.name = 'ClientError';
  }
}

export const ClientErrorCode = Object.freeze({
  STORAGE_QUOTA: 'STORAGE_QUOTA',
  STORAGE_UNAVAILABLE: 'STORAGE_UNAVAILABLE',
  NETWORK: 'NETWORK',
  USER_NOT_INITIALIZED: 'USER_NOT_INITIALIZED',
  DISPOSED: 'DISPOSED',
  TAB_LEADER_LOST: 'TAB_LEADER_LOST',
});
