// The HTTP side of sync: POST /v1/sync and GET /v1/state over fetch. It decides nothing about
// retries or outcomes (the core does); it reports what happened as { status, text, url,
// retryAfterMs }, with status 0 for a request that never got an HTTP answer, which the core treats
// as retryable, `url` the address asked, so a misconfigured endpoint can be named, and
// retryAfterMs the server's Retry-After (429, 503) or null.
import { systemTimers } from './scheduler.js';

// Browsers refuse keepalive bodies over 64 KiB in flight per page; stay clearly below.
const KEEPALIVE_LIMIT_BYTES = 60 * 1024;
// A request not answered within this long is given up as one that got no answer (status 0: the
// ops stay queued and are resent with the same ids, so one the server did commit is answered
// `duplicate`). A browser's fetch has no time limit of its own: an endpoint that accepts the
// connection and never answers (a hung proxy) would hold the sync loop, and the status at
// `connecting`, for as long as the page stays open. The sync server itself ends a request after
// 30 s (REQUEST_TIMEOUT_MS), so its slow answers still come in time.
export const REQUEST_TIMEOUT_MS = 35_000;
// A Retry-After longer than this is read as this: a misconfigured proxy must not silence the
// client's syncs for days.
export const MAX_RETRY_AFTER_MS = 3_600_000;

// Retry-After as delta-seconds (what the sync server sends), in ms; null when absent or another
// form (an HTTP-date would be read against this device's clock, which may be wrong).
export function retryAfterMs(header) {
  if (typeof header !== 'string' || !/^\s*\d{1,10}\s*$/.test(header)) return null;
  return Math.min(Number(header) * 1000, MAX_RETRY_AFTER_MS);
}

// Development identity (`dev <userId>`, accepted only by a server started with it): the user of
// each request, or a fixed one.
export function devAuth(fixedUserId) {
  return ({ userId } = {}) => `dev ${fixedUserId ?? userId}`;
}

export function telegramAuth(initData) {
  return () => `tma ${initData}`;
}

// `auth({ userId })` (sync or async) returns the Authorization header value, or null. `timers`
// ({ setTimeout, clearTimeout }) time the requests out after `timeoutMs`.
export function createFetchTransport({
  endpoint,
  auth = null,
  fetch = globalThis.fetch?.bind(globalThis),
  timeoutMs = REQUEST_TIMEOUT_MS,
  timers = systemTimers,
} = {}) {
  const base = String(endpoint ?? '').replace(/\/+$/, '');

  async function send(path, init, userId) {
    const headers = { ...init.headers };
    const authorization = auth ? await auth({ userId }) : null;
    if (authorization) headers.Authorization = authorization;
    const url = `${base}${path}`;
    const abort = typeof AbortController === 'function' ? new AbortController() : null;
    let timer;
    // Resolves with null when the time is up; the fetch (and a body still arriving) is cancelled.
    const expired = new Promise((resolve) => {
      timer = timers.setTimeout(() => {
        abort?.abort();
        resolve(null);
      }, timeoutMs);
    });
    const unanswered = { status: 0, text: '', url, error: `no answer within ${timeoutMs} ms` };
    try {
      let response;
      try {
        response = await Promise.race([fetch(url, { ...init, headers, signal: abort?.signal }), expired]);
      } catch (error) {
        return { status: 0, text: '', url, error: error?.message ?? String(error) };
      }
      if (response === null) return unanswered;
      let text;
      try {
        text = await Promise.race([response.text(), expired]);
      } catch (error) {
        // The server answered but the body was cut: whether it committed is unknown, so this is a
        // network failure and the frozen ops are resent with the same ids.
        return { status: 0, text: '', url, error: error?.message ?? String(error) };
      }
      if (text === null) return unanswered;
      return { status: response.status, text, url, retryAfterMs: retryAfterMs(response.headers?.get?.('Retry-After') ?? null) };
    } finally {
      timers.clearTimeout(timer);
    }
  }

  return {
    // `keepalive` lets a closing page (pagehide, Telegram deactivated) still deliver the batch.
    sync(request, { keepalive = false, userId } = {}) {
      const body = JSON.stringify(request);
      return send('/v1/sync', {
        method: 'POST',
        headers: { 'Content-Type': 'application/json' },
        body,
        keepalive: keepalive && new TextEncoder().encode(body).length <= KEEPALIVE_LIMIT_BYTES,
      }, userId);
    },
    fetchState(clientId, { userId } = {}) {
      return send(`/v1/state?clientId=${encodeURIComponent(clientId)}`, { method: 'GET' }, userId);
    },
  };
}
