// Failures of the client runtime (storage, network, tabs, misuse) as Error subclasses with a stable
// `code`, so an app can branch on `error.code` the same way it does for the core's rule errors.
export class ClientError extends Error {
  constructor(code, message, options) {
    super(message, options);
    this.name = 'ClientError';
    this.code = code;
  }
}

export const ClientErrorCode = Object.freeze({
  STORAGE_QUOTA: 'STORAGE_QUOTA',
  STORAGE_UNAVAILABLE: 'STORAGE_UNAVAILABLE',
  NETWORK: 'NETWORK',
  USER_NOT_INITIALIZED: 'USER_NOT_INITIALIZED',
  DISPOSED: 'DISPOSED',
  TAB_LEADER_LOST: 'TAB_LEADER_LOST',
  CONFIG_INVALID: 'CONFIG_INVALID',
});
