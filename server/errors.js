// Errors the server answers with: a stable code (the same strings as the core's ErrorCode where
// one fits, e.g. REQUEST_INVALID), an HTTP status and a message safe to show the client.
// Codes the core does not have are HTTP concerns: AUTH_REQUIRED, AUTH_INVALID, AUTH_EXPIRED,
// FORBIDDEN, NOT_FOUND, METHOD_NOT_ALLOWED, PAYLOAD_TOO_LARGE, REVIEW_DECIDED, INTERNAL.
export class ServerError extends Error {
  constructor(code, message, status = 400) {
    super(message);
    this.name = 'ServerError';
    this.code = code;
    this.status = status;
  }
}

export const requestInvalid = (message) => new ServerError('REQUEST_INVALID', message, 400);
