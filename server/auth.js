// Who is calling. The user id comes only from Telegram initData validated with the bot token
// (or, when explicitly enabled for the demo, from a development header); never from a body.
//
// Telegram's rule (core.telegram.org/bots/webapps#validating-data-received-via-the-mini-app):
// secret = HMAC_SHA256(key "WebAppData", bot_token); hash = hex HMAC_SHA256(secret,
// data-check-string) where data-check-string is every received field except `hash`, as
// `key=value`, sorted by key, joined by "\n".
import crypto from 'node:crypto';

import { ServerError } from './errors.js';

const MAX_INIT_DATA_CHARS = 8192;
// A phone clock slightly ahead of Telegram's must not lock the user out; a date further in the
// future than this is not a clock difference but a forgery attempt.
const FUTURE_SKEW_S = 60;

const authError = (code, message) => new ServerError(code, message, 401);

export function telegramSecret(botToken) {
  return crypto.createHmac('sha256', 'WebAppData').update(botToken).digest();
}

export function dataCheckString(fields) {
  return [...fields.entries()]
    .filter(([key]) => key !== 'hash')
    .sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0))
    .map(([key, value]) => `${key}=${value}`)
    .join('\n');
}

// Signs fields the way Telegram does; used by tests and the bench to make valid initData.
export function signInitData(fields, botToken) {
  const map = new Map(Object.entries(fields));
  const hash = crypto.createHmac('sha256', telegramSecret(botToken)).update(dataCheckString(map)).digest('hex');
  const params = new URLSearchParams();
  for (const [key, value] of map) params.append(key, value);
  params.append('hash', hash);
  return params.toString();
}

export function isPositiveSafeInteger(value) {
  return Number.isSafeInteger(value) && value > 0;
}

// Returns the validated Telegram user id. `nowMs` is the server clock.
export function validateInitData(initData, { botToken, maxAgeS, nowMs, secret = telegramSecret(botToken) }) {
  if (typeof initData !== 'string' || initData.length === 0 || initData.length > MAX_INIT_DATA_CHARS) {
    throw authError('AUTH_INVALID', 'initData is missing or too long');
  }
  const fields = new Map();
  for (const [key, value] of new URLSearchParams(initData)) {
    // A repeated key would let the signed value and the value read below differ.
    if (fields.has(key)) throw authError('AUTH_INVALID', `initData repeats the field ${key}`);
    fields.set(key, value);
  }
  const received = fields.get('hash') ?? '';
  if (!/^[0-9a-f]{64}$/.test(received)) throw authError('AUTH_INVALID', 'initData has no valid hash');
  const expected = crypto.createHmac('sha256', secret).update(dataCheckString(fields)).digest();
  if (!crypto.timingSafeEqual(expected, Buffer.from(received, 'hex'))) {
    throw authError('AUTH_INVALID', 'initData signature does not match');
  }
  const authDate = Number(fields.get('auth_date'));
  if (!/^\d{1,12}$/.test(fields.get('auth_date') ?? '') || !Number.isSafeInteger(authDate)) {
    throw authError('AUTH_INVALID', 'initData has no valid auth_date');
  }
  const ageS = Math.floor(nowMs / 1000) - authDate;
  if (ageS > maxAgeS) throw authError('AUTH_EXPIRED', `initData is older than ${maxAgeS} s; reopen the app`);
  if (ageS < -FUTURE_SKEW_S) throw authError('AUTH_INVALID', 'initData auth_date is in the future');
  let user;
  try {
    user = JSON.parse(fields.get('user') ?? '');
  } catch {
    throw authError('AUTH_INVALID', 'initData has no valid user');
  }
  if (user === null || typeof user !== 'object' || !isPositiveSafeInteger(user.id)) {
    throw authError('AUTH_INVALID', 'initData user id is not a positive safe integer');
  }
  return user.id;
}

export function createAuthenticator({ botToken = null, maxAgeS = 86400, devIdentity = false, now }) {
  const secret = botToken ? telegramSecret(botToken) : null;
  return function authenticate(header) {
    if (typeof header !== 'string' || header.length === 0) {
      throw authError('AUTH_REQUIRED', 'Authorization header is missing');
    }
    const space = header.indexOf(' ');
    const scheme = space < 0 ? header : header.slice(0, space);
    const credential = space < 0 ? '' : header.slice(space + 1);
    if (scheme === 'tma') {
      if (!secret) throw authError('AUTH_INVALID', 'Telegram authentication is not configured on this server');
      return validateInitData(credential, { secret, maxAgeS, nowMs: now() });
    }
    if (scheme === 'dev' && devIdentity) {
      const userId = /^[1-9]\d{0,15}$/.test(credential) ? Number(credential) : NaN;
      if (!isPositiveSafeInteger(userId)) throw authError('AUTH_INVALID', 'dev user id is not a positive safe integer');
      return userId;
    }
    throw authError('AUTH_INVALID', `unsupported Authorization scheme`);
  };
}

// Hashing both sides first makes the comparison constant-time whatever the lengths.
export function createAdminCheck(adminToken) {
  const expected = adminToken ? crypto.createHash('sha256').update(adminToken).digest() : null;
  return function checkAdmin(header) {
    if (!expected) throw new ServerError('NOT_FOUND', 'admin endpoints are disabled (no ADMIN_TOKEN)', 404);
    const match = /^Bearer (.+)$/.exec(header ?? '');
    const given = crypto.createHash('sha256').update(match ? match[1] : '').digest();
    if (!match || !crypto.timingSafeEqual(expected, given)) {
      throw new ServerError('FORBIDDEN', 'admin token missing or wrong', 403);
    }
  };
}
