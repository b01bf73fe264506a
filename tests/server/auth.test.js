// Telegram initData validation and the admin token, as pure functions (the HTTP side of refused
// identities, with the database checked, is in http.test.js).
import assert from 'node:assert/strict';
import crypto from 'node:crypto';
import { describe, test } from 'node:test';

import fc from 'fast-check';

import { createAdminCheck, createAuthenticator, dataCheckString, validateInitData } from '../../server/auth.js';
import { BOT_TOKEN, START_MS, initDataFor } from './helpers.js';

const NOW_MS = START_MS + 30_000;
const options = { botToken: BOT_TOKEN, maxAgeS: 3600, nowMs: NOW_MS };

function codeOf(fn) {
  try {
    fn();
    return 'accepted';
  } catch (error) {
    return error.code;
  }
}

describe('Telegram initData', () => {
  test('a correctly signed initData yields the user id, including ids past 32 bits', () => {
    assert.equal(validateInitData(initDataFor(42), options), 42);
    assert.equal(validateInitData(initDataFor(7_000_000_123), options), 7_000_000_123);
  });

  test('matches the algorithm Telegram documents, computed independently', () => {
    const fields = new Map([
      ['auth_date', String(Math.floor(START_MS / 1000))],
      ['user', JSON.stringify({ id: 99 })],
      ['chat_type', 'private'],
    ]);
    assert.equal(dataCheckString(fields), `auth_date=${fields.get('auth_date')}\nchat_type=private\nuser={"id":99}`);
    const secret = crypto.createHmac('sha256', 'WebAppData').update(BOT_TOKEN).digest();
    const hash = crypto.createHmac('sha256', secret).update(dataCheckString(fields)).digest('hex');
    const params = new URLSearchParams([...fields, ['hash', hash]]);
    assert.equal(validateInitData(params.toString(), options), 99);
  });

  test('signed with another bot token: AUTH_INVALID', () => {
    const forged = initDataFor(42, { botToken: '987654321:AAEanotherBotTokenThatIsNotOurs' });
    assert.equal(codeOf(() => validateInitData(forged, options)), 'AUTH_INVALID');
  });

  test('older than the configured age: AUTH_EXPIRED; within it: accepted', () => {
    const authDateS = Math.floor(NOW_MS / 1000) - 3601;
    assert.equal(codeOf(() => validateInitData(initDataFor(42, { authDateS }), options)), 'AUTH_EXPIRED');
    assert.equal(validateInitData(initDataFor(42, { authDateS: authDateS + 2 }), options), 42);
  });

  test('auth_date far in the future is refused', () => {
    const authDateS = Math.floor(NOW_MS / 1000) + 3600;
    assert.equal(codeOf(() => validateInitData(initDataFor(42, { authDateS }), options)), 'AUTH_INVALID');
  });

  test('structurally bad initData is refused, never crashes', () => {
    const cases = [
      '',
      'hash=',
      'user=%7B%7D',
      `${initDataFor(42)}&hash=${'0'.repeat(64)}`,
      initDataFor(42).replace(/hash=[0-9a-f]+/, 'hash=XYZ'),
      'x'.repeat(10_000),
    ];
    for (const initData of cases) assert.equal(codeOf(() => validateInitData(initData, options)), 'AUTH_INVALID', initData.slice(0, 40));
  });

  test('a validly signed user that is not a positive safe integer is refused', () => {
    for (const id of [0, -5, 1.5, 2 ** 53, '42', null]) {
      const initData = new URLSearchParams(initDataFor(1, { extra: { user: JSON.stringify({ id }) } })).toString();
      assert.equal(codeOf(() => validateInitData(initData, options)), 'AUTH_INVALID', String(id));
    }
  });

  test('a repeated field is refused even though the signature covers one copy', () => {
    const tampered = `${initDataFor(42)}&user=${encodeURIComponent(JSON.stringify({ id: 43 }))}`;
    assert.equal(codeOf(() => validateInitData(tampered, options)), 'AUTH_INVALID');
  });

  test('Security: any single-character change of a signed initData is refused (>= 100 cases)', () => {
    const signed = initDataFor(424242);
    fc.assert(
      fc.property(
        fc.nat({ max: signed.length - 1 }),
        fc.constantFrom(...'0123456789abcdefABCDEF%=&_:{}"'),
        (index, replacement) => {
          fc.pre(signed[index] !== replacement);
          const tampered = signed.slice(0, index) + replacement + signed.slice(index + 1);
          const code = codeOf(() => validateInitData(tampered, options));
          // A change the URL decoder undoes (e.g. %7B vs %7b) is the same signed content.
          if (code === 'accepted') {
            assert.equal(dataCheckString(new URLSearchParams(tampered)), dataCheckString(new URLSearchParams(signed)));
          } else {
            assert.ok(['AUTH_INVALID', 'AUTH_EXPIRED'].includes(code), code);
          }
        },
      ),
      { numRuns: 300, seed: 4242 },
    );
  });
});

describe('Authorization header', () => {
  const now = () => NOW_MS;

  test('dev identity works only when enabled', () => {
    assert.equal(createAuthenticator({ devIdentity: true, now })('dev 42'), 42);
    assert.equal(codeOf(() => createAuthenticator({ devIdentity: false, botToken: BOT_TOKEN, now })('dev 42')), 'AUTH_INVALID');
  });

  test('dev identity refuses anything but a positive safe integer', () => {
    const authenticate = createAuthenticator({ devIdentity: true, now });
    for (const id of ['0', '-1', '1.5', '9007199254740993', '12abc', '', ' 42', '042']) {
      assert.equal(codeOf(() => authenticate(`dev ${id}`)), 'AUTH_INVALID', id);
    }
  });

  test('missing header is AUTH_REQUIRED; unknown scheme AUTH_INVALID', () => {
    const authenticate = createAuthenticator({ botToken: BOT_TOKEN, now });
    assert.equal(codeOf(() => authenticate(undefined)), 'AUTH_REQUIRED');
    assert.equal(codeOf(() => authenticate('Bearer abc')), 'AUTH_INVALID');
    assert.equal(authenticate(`tma ${initDataFor(5)}`), 5);
  });

  test('admin token: right token passes, wrong or missing is FORBIDDEN, none configured is NOT_FOUND', () => {
    const check = createAdminCheck('a-long-admin-token-123456');
    assert.equal(codeOf(() => check('Bearer a-long-admin-token-123456')), 'accepted');
    for (const header of [undefined, '', 'Bearer ', 'Bearer a-long-admin-token-12345', 'bearer a-long-admin-token-123456']) {
      assert.equal(codeOf(() => check(header)), 'FORBIDDEN', String(header));
    }
    assert.equal(codeOf(() => createAdminCheck(null)('Bearer x')), 'NOT_FOUND');
  });
});
