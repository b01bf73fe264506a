// Tab routing (js/tab-routing.js) driven through its delegate alone, over the Web Locks and
// BroadcastChannel doubles of tests/js/support/fake-tabs.js: no manager, no engine. Each "tab" is a
// TabRouting whose delegate keeps a balance in units and logs what it was asked to do.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { TabRouting } from '../../../js/tab-routing.js';
import { FakeBrowser } from '../support/fake-tabs.js';

const flush = () => new Promise((resolve) => setImmediate(resolve));

function openTab(browser, name, log, { services } = {}) {
  const tab = browser?.tab();
  const session = {
    userId: 7,
    phase: 'starting',
    mirror: null,
    tabs: null,
    get isLeader() {
      return this.phase === 'leading';
    },
    moveTo(phase) {
      log.push(`${name} ${this.phase} -> ${phase}`);
      this.phase = phase;
    },
  };
  let units = 0n;
  const delegate = {
    lead: async (leading) => {
      leading.phase = 'leading';
      log.push(`${name} leads`);
    },
    state: () => ({ units: String(units), servedBy: name }),
    updateEarnings: async (_, amount) => {
      units += BigInt(amount);
      log.push(`${name} adds ${amount}`);
    },
    setMining: async (_, { active }) => log.push(`${name} mining ${active}`),
    syncToDatabase: async (_, force) => ({ status: 'ok', force, servedBy: name }),
    reconcileData: async () => ({ recovered: true, servedBy: name }),
    mirrored: (mirroring) => log.push(`${name} mirrors ${mirroring.mirror.units} from ${mirroring.mirror.servedBy}`),
    followerJoined: () => log.push(`${name} has a follower`),
    refused: () => log.push(`${name} refused`),
    track: () => {},
  };
  const routing = new TabRouting(delegate, { services: services ?? tab.services, timers: null, newTabId: () => `tab-${name}` });
  return { routing, session, kill: () => tab.kill() };
}

// Tab 'a' started first and leads; tab 'b' started next and follows. Both write to one log.
async function leaderAndFollower() {
  const browser = new FakeBrowser();
  const log = [];
  const a = openTab(browser, 'a', log);
  const b = openTab(browser, 'b', log);
  await a.routing.start(a.session);
  await b.routing.start(b.session);
  return { log, a, b };
}

test('without tab services this tab leads alone, with no coordinator', async () => {
  const log = [];
  const { routing, session } = openTab(null, 'only', log, { services: { locks: null, openChannel: null } });
  await routing.start(session);
  assert.deepEqual(log, ['only leads']);
  assert.equal(session.tabs, null);
});

test("a second tab follows the leader: its calls run there, state-changing ones update its mirror, and the others answer the leader's answer", async () => {
  const { log, a, b } = await leaderAndFollower();
  assert.equal(b.session.phase, 'following');
  assert.deepEqual(b.session.mirror, { units: '0', servedBy: 'a' });

  assert.equal(await b.routing.forward(b.session, 'updateEarnings', ['5']), undefined);
  assert.deepEqual(b.session.mirror, { units: '5', servedBy: 'a' });
  assert.equal(await b.routing.forward(b.session, 'setMining', [{ active: false }]), undefined);
  assert.deepEqual(await b.routing.forward(b.session, 'syncToDatabase', [1]), { status: 'ok', force: true, servedBy: 'a' });
  assert.deepEqual(await b.routing.forward(b.session, 'reconcileData', []), { recovered: true, servedBy: 'a' });
  await flush();
  assert.deepEqual(log.filter((line) => !line.includes('has a follower')), [
    'a leads',
    'b starting -> following',
    // The leader answers a starting follower's hello with its state.
    'b mirrors 0 from a',
    'a adds 5',
    'b mirrors 5 from a',
    'a mining false',
    'b mirrors 5 from a',
  ]);
  await assert.rejects(a.routing.serve(a.session, 'transferEarnings', []), { code: 'REQUEST_INVALID' });
});

test('the leader state broadcasts become the follower mirror; a broadcast error does not', async () => {
  const { log, a, b } = await leaderAndFollower();
  a.session.tabs.broadcastState({ units: '9', servedBy: 'a' });
  await flush();
  assert.deepEqual(b.session.mirror, { units: '9', servedBy: 'a' });
  a.session.tabs.broadcastState({ error: { code: 'CORE_FAULT' } });
  await flush();
  assert.deepEqual(b.session.mirror, { units: '9', servedBy: 'a' });
  assert.deepEqual(log.filter((line) => line.startsWith('b mirrors')), ['b mirrors 0 from a', 'b mirrors 9 from a']);
});

test('when the leading tab dies the follower leads through the delegate', async () => {
  const { log, a, b } = await leaderAndFollower();
  a.kill();
  await flush();
  await flush();
  assert.equal(b.session.phase, 'leading');
  assert.deepEqual(log.filter((line) => line.endsWith('leads')), ['a leads', 'b leads']);
});
