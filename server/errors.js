// Errors the server answers with: a stable code (the same strings as the core's ErrorCode where
// one fits, e.g. REQUEST_INVALID), an HTTP status and a message safe to show the client.
// Codes the core does not have are HTTP concerns: AUTH_REQUIRED, AUTH_INVALID, AUTH_EXPIRED,
// FORBIDDEN, NOT_FOUND, METHOD_NOT_ALLOWED, PAYLOAD_TOO_LARGE, REVIEW_DECIDED, RATE_LIMITED,
// REVIEW_QUEUE_FULL, TOO_MANY_CLIENTS, DRAINING, OVERLOADED, UNAVAILABLE, INTERNAL.
// `retryAfterS`: when the client should try again (a Retry-After header); the request changed
// nothing, and a sync's ops stay in the client's outbox until then.
export class ServerError extends Error {
  constructor(code, message, status = 400, { retryAfterS = null } = {}) {
    super(message);
    this.name = 'ServerError';
    this.code = code;
    this.status = status;
    this.retryAfterS = retryAfterS;
  }
}

export const requestInvalid = (message) => new ServerError('REQUEST_INVALID', message, 400);
