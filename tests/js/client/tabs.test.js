import { test } from 'node:test';
import assert from 'node:assert/strict';
import fc from 'fast-check';
import { TabCoordinator } from '../../../js/tabs.js';
import { FakeBrowser } from '../support/fake-tabs.js';

function flush() {
  return new Promise((resolve) => setImmediate(resolve));
}

// A tab whose "engine" is a counter: enough to see who leads and where writes land.
function openTab(browser, userId, name, log) {
  const tab = browser.tab();
  const states = [];
  const coordinator = new TabCoordinator({
    userId,
    tabId: name,
    services: tab.services,
    onLeader: async () => log.push(`${name} leads`),
    onCall: async (method, args) => {
      log.push(`${name} serves ${method}(${args.join(',')})`);
      return { servedBy: name };
    },
    onState: (state) => states.push(state),
  });
  return { coordinator, tab, states, name };
}

// Tabs opened in one fresh browser, then started one after another (so the first of a user leads),
// sharing one log. Each spec is [userId, name].
async function startTabs(...specs) {
  const browser = new FakeBrowser();
  const log = [];
  const tabs = specs.map(([userId, name]) => openTab(browser, userId, name, log));
  for (const tab of tabs) await tab.coordinator.start();
  return { tabs, log };
}

test('the first tab leads, later tabs follow and forward their calls to it', async () => {
  const { tabs: [a, b], log } = await startTabs([1, 'a'], [1, 'b']);
  assert.equal(a.coordinator.isLeader, true);
  assert.equal(b.coordinator.isLeader, false);
  assert.deepEqual(await b.coordinator.call('updateEarnings', ['0.1']), { servedBy: 'a' });
  a.coordinator.broadcastState({ currentEarnings: '1.00000000' });
  await flush();
  assert.deepEqual(b.states.at(-1), { currentEarnings: '1.00000000' });
  assert.deepEqual(log, ['a leads', 'a serves state()', 'a serves updateEarnings(0.1)']);
});

test('leaders are per user: two users in one browser each get their own leader', async () => {
  const { tabs: [one, two] } = await startTabs([1, 'one'], [2, 'two']);
  assert.equal(one.coordinator.isLeader, true);
  assert.equal(two.coordinator.isLeader, true);
});

test('when the leader tab is killed a follower takes over; its unanswered call fails with TAB_LEADER_LOST', async () => {
  const { tabs: [a, b], log } = await startTabs([1, 'a'], [1, 'b']);
  a.tab.kill();
  const call = b.coordinator.call('updateEarnings', ['0.2']);
  await assert.rejects(call, { code: 'TAB_LEADER_LOST' });
  assert.equal(b.coordinator.isLeader, true);
  assert.ok(log.includes('b leads'));
  assert.ok(!log.includes('a serves updateEarnings(0.2)'));
});

test('without Web Locks the tab leads alone', async () => {
  const log = [];
  const coordinator = new TabCoordinator({
    userId: 5, tabId: 'solo', services: { locks: null, openChannel: null },
    onLeader: async () => log.push('solo leads'), onCall: async () => null, onState: () => {},
  });
  await coordinator.start();
  assert.equal(coordinator.isLeader, true);
  assert.deepEqual(log, ['solo leads']);
});

test('at any moment exactly one live tab leads each user, whatever tabs open and die', async () => {
  await fc.assert(fc.asyncProperty(
    fc.array(fc.record({ action: fc.constantFrom('open', 'kill', 'dispose'), userId: fc.integer({ min: 1, max: 3 }), pick: fc.nat() }),
      { minLength: 1, maxLength: 25 }),
    async (steps) => {
      const browser = new FakeBrowser();
      const tabs = [];
      for (const { action, userId, pick } of steps) {
        if (action === 'open') {
          const tab = openTab(browser, userId, `t${tabs.length}`, []);
          tab.userId = userId;
          tab.alive = true;
          tabs.push(tab);
          await tab.coordinator.start();
        } else {
          const live = tabs.filter((tab) => tab.alive);
          if (live.length === 0) continue;
          const victim = live[pick % live.length];
          victim.alive = false;
          if (action === 'kill') victim.tab.kill();
          else victim.coordinator.dispose();
        }
        await flush();
        for (const user of [1, 2, 3]) {
          const live = tabs.filter((tab) => tab.alive && tab.userId === user);
          const leaders = live.filter((tab) => tab.coordinator.isLeader);
          assert.equal(leaders.length, live.length > 0 ? 1 : 0, `user ${user}`);
        }
      }
    },
  ), { numRuns: 100 });
});
