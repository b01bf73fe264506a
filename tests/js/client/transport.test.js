import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createFetchTransport, devAuth, telegramAuth } from '../../../js/transport.js';
import { readTelegram, userIdFromInitData } from '../../../js/telegram.js';
import { FakeServer } from '../support/fake-server.js';
import { FakeTime } from '../support/fake-time.js';

const request = {
  clientId: 'c-1',
  ops: [{ id: 'c-1:1', seq: 1, type: 'accrual', amount: '0.01666666', from: 1000, to: 61000, rate: '1.00000000' }],
};

test('posts the batch with the user\'s Authorization and reports status and body text', async () => {
  const seen = [];
  const server = new FakeServer({ now: () => 5000 });
  const transport = createFetchTransport({
    endpoint: 'https://api.example/',
    auth: devAuth(),
    fetch: (url, init) => {
      seen.push({ url, init });
      return server.fetch(url, init);
    },
  });
  const reply = await transport.sync(request, { userId: 42 });
  assert.equal(reply.status, 200);
  assert.equal(JSON.parse(reply.text).results[0].status, 'applied');
  assert.equal(seen[0].url, 'https://api.example/v1/sync');
  assert.equal(seen[0].init.headers.Authorization, 'dev 42');
  assert.equal(seen[0].init.keepalive, false);
  const state = await transport.fetchState('c-1', { userId: 42 });
  assert.equal(JSON.parse(state.text).state.lastSeq, 1);
});

test('a network failure is status 0, never a throw', async () => {
  const transport = createFetchTransport({ endpoint: 'http://x', fetch: async () => { throw new TypeError('fetch failed'); } });
  const reply = await transport.sync(request);
  assert.equal(reply.status, 0);
  assert.match(reply.error, /fetch failed/);
});

test('a body cut after the status line is a network failure: the commit is unknown', async () => {
  const transport = createFetchTransport({
    endpoint: 'http://x',
    fetch: async () => ({ status: 200, text: async () => { throw new TypeError('terminated'); } }),
  });
  assert.equal((await transport.sync(request)).status, 0);
});

test('keepalive is asked for when the page is closing, but not for bodies browsers would refuse', async () => {
  const seen = [];
  const transport = createFetchTransport({ endpoint: 'http://x', fetch: async (url, init) => { seen.push(init.keepalive); return new Response('{}'); } });
  await transport.sync(request, { keepalive: true });
  const huge = { clientId: 'c-1', ops: Array.from({ length: 2000 }, (_, i) => ({ ...request.ops[0], id: `c-1:${i + 1}`, seq: i + 1 })) };
  await transport.sync(huge, { keepalive: true });
  assert.deepEqual(seen, [true, false]);
});

test('Telegram: tma authorization carries the raw initData; the user id comes from the signed data only', () => {
  const initData = new URLSearchParams({ user: JSON.stringify({ id: 5_000_000_001, first_name: 'A' }), auth_date: '1', hash: 'ab' }).toString();
  const env = { Telegram: { WebApp: { initData, initDataUnsafe: { user: { id: 7 } }, onEvent() {}, offEvent() {} } } };
  const telegram = readTelegram(env);
  assert.equal(telegram.userId, 5_000_000_001);
  assert.equal(telegram.authorization(), `tma ${initData}`);
  assert.equal(telegramAuth(initData)(), `tma ${initData}`);
});

test('Telegram: no initData means not running in Telegram; unsafe ids are refused, not rounded', () => {
  assert.equal(readTelegram({ Telegram: { WebApp: { initData: '' } } }), null);
  assert.equal(readTelegram({}), null);
  assert.equal(userIdFromInitData(`user=${encodeURIComponent('{"id":9007199254740993}')}`), null);
  assert.equal(userIdFromInitData(`user=${encodeURIComponent('{"id":-3}')}`), null);
  assert.equal(userIdFromInitData('user=%7Bnot json'), null);
  assert.equal(userIdFromInitData('auth_date=1'), null);
});

test('Telegram: deactivated listeners are wired and removable', () => {
  const listeners = new Map();
  const webApp = {
    initData: 'user=%7B%22id%22%3A3%7D',
    onEvent: (type, fn) => listeners.set(type, fn),
    offEvent: (type) => listeners.delete(type),
  };
  const telegram = readTelegram({ Telegram: { WebApp: webApp } });
  let fired = 0;
  const off = telegram.onLifecycle('deactivated', () => { fired += 1; });
  listeners.get('deactivated')();
  off();
  assert.equal(fired, 1);
  assert.equal(listeners.has('deactivated'), false);
});

test('a request with no answer within the time limit is given up as status 0 and its fetch is cancelled; an answer in time leaves no timer behind', async () => {
  const time = new FakeTime();
  const timers = time.group();
  const signals = [];
  const hung = createFetchTransport({
    endpoint: 'http://hung.example',
    timeoutMs: 35_000,
    timers,
    fetch: (url, init) => {
      signals.push(init.signal);
      return new Promise(() => {});
    },
  });
  const replies = [];
  hung.sync(request).then((reply) => replies.push(reply));
  await new Promise((resolve) => setImmediate(resolve));
  await time.advance(34_999);
  assert.deepEqual(replies, []);
  assert.equal(signals[0].aborted, false);
  await time.advance(1);
  await new Promise((resolve) => setImmediate(resolve));
  assert.deepEqual(replies, [{ status: 0, text: '', url: 'http://hung.example/v1/sync', error: 'no answer within 35000 ms' }]);
  assert.equal(signals[0].aborted, true);

  // Headers came, the body never finishes: the same.
  const stalled = createFetchTransport({
    endpoint: 'http://stalled.example', timeoutMs: 1_000, timers,
    fetch: async () => ({ status: 200, headers: new Headers(), text: () => new Promise(() => {}) }),
  });
  const stalledReply = stalled.fetchState('c-1');
  await new Promise((resolve) => setImmediate(resolve));
  await time.advance(1_000);
  assert.equal((await stalledReply).error, 'no answer within 1000 ms');

  const server = new FakeServer({ now: () => 5000 });
  const prompt = createFetchTransport({ endpoint: 'https://api.example', auth: devAuth(), timers, fetch: server.fetch });
  assert.equal((await prompt.sync(request, { userId: 42 })).status, 200);
  assert.equal(timers.pending(), 0, 'the answered request\'s timer is cleared');
});
