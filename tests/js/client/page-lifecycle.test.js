// The page's comings and goings (js/page-lifecycle.js) driven through the delegate alone: no
// manager, no engine, no page. The event sources are plain emitters the test fires; the delegate
// is a set of sessions the test describes and a log of what the part did to them.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { PageLifecycle } from '../../../js/page-lifecycle.js';

function emitter() {
  const listeners = new Map();
  return {
    on(type, listener) {
      listeners.set(type, listener);
      return () => listeners.delete(type);
    },
    fire(type) {
      listeners.get(type)?.();
    },
    get heard() {
      return [...listeners.keys()].sort();
    },
  };
}

function lifecycleWith(sessions, { failing = new Set() } = {}) {
  const page = emitter();
  const telegramEvents = emitter();
  const telegram = { onLifecycle: (type, listener) => telegramEvents.on(type, listener) };
  const log = [];
  const tracked = [];
  const delegate = {
    sessions: () => sessions.values(),
    leads: (session) => session.leads,
    inOfflineMode: (session) => session.offline,
    leaveOfflineMode: (session) => {
      session.offline = false;
      log.push(`${session.name} back online`);
    },
    flush: async (session, { keepalive, online }) => {
      log.push(`${session.name} sync${keepalive ? ' keepalive' : ''}${online ? ' online' : ''}`);
      if (failing.has(session.name)) throw new Error(`${session.name} unreachable`);
      return { status: 'ok' };
    },
    cancelSyncs: (session) => log.push(`${session.name} timer cancelled`),
    failed: (session, error) => log.push(`${session.name} failed: ${error.message}`),
    track: (promise) => tracked.push(promise),
  };
  const lifecycle = new PageLifecycle(delegate, { lifecycle: page, telegram });
  return { lifecycle, page, telegramEvents, log, settle: () => Promise.all(tracked) };
}

const sessionsOf = (...list) => new Set(list.map(([name, leads, offline = false]) => ({ name, leads, offline })));

test('a page hidden, unloaded or deactivated sends a keepalive sync for each session it leads, except those in offline mode', async () => {
  for (const [source, type] of [['page', 'hidden'], ['page', 'pagehide'], ['telegramEvents', 'deactivated']]) {
    const sessions = sessionsOf(['leader', true], ['follower', false], ['offline', true, true]);
    const parts = lifecycleWith(sessions);
    parts[source].fire(type);
    await parts.settle();
    assert.deepEqual(parts.log, ['leader sync keepalive'], type);
  }
});

test('online takes each leading session out of offline mode, tells its engine and syncs; offline cancels every timer', async () => {
  const sessions = sessionsOf(['leader', true], ['follower', false], ['offline', true, true]);
  const { page, log, settle } = lifecycleWith(sessions);
  page.fire('offline');
  assert.deepEqual(log.splice(0), ['leader timer cancelled', 'follower timer cancelled', 'offline timer cancelled']);
  page.fire('online');
  await settle();
  assert.deepEqual(log, ['leader back online', 'leader sync online', 'offline back online', 'offline sync online']);
});

test("a sync that fails is reported for its session and does not stop the others'", async () => {
  const sessions = sessionsOf(['first', true], ['second', true]);
  const { page, log, settle } = lifecycleWith(sessions, { failing: new Set(['first']) });
  page.fire('pagehide');
  await settle();
  assert.deepEqual(log, ['first sync keepalive', 'second sync keepalive', 'first failed: first unreachable']);
});

test('after detach no event reaches the delegate, and a source without `on` is not heard', async () => {
  const sessions = sessionsOf(['leader', true]);
  const { lifecycle, page, telegramEvents, log } = lifecycleWith(sessions);
  assert.deepEqual(page.heard, ['hidden', 'offline', 'online', 'pagehide']);
  assert.deepEqual(telegramEvents.heard, ['deactivated']);
  lifecycle.detach();
  assert.deepEqual([page.heard, telegramEvents.heard], [[], []]);
  for (const type of ['hidden', 'pagehide', 'online', 'offline']) page.fire(type);
  telegramEvents.fire('deactivated');
  assert.deepEqual(log, []);
  assert.doesNotThrow(() => new PageLifecycle({}, { lifecycle: { isOnline: () => true }, telegram: null }).detach());
});
