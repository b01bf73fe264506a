// A device for client tests: virtual time, one fake IndexedDB shared by all tabs of the device,
// Web Locks and BroadcastChannel doubles, browser online/offline, and the fake sync server behind
// the real fetch transport. Tabs open real EarningsManagers on the real core (wasm) and can be
// killed (nothing of theirs runs afterwards) or reloaded.
import { IDBFactory, IDBKeyRange } from 'fake-indexeddb';
import { loadCore } from '../../../js/core.js';
import { createEarningsManager } from '../../../js/index.js';
import { IndexedDbStore } from '../../../js/storage/indexeddb.js';
import { createFetchTransport, devAuth } from '../../../js/transport.js';
import { FakeServer } from './fake-server.js';
import { FakeTime, seededRandom } from './fake-time.js';
import { FakeBrowser, killable } from './fake-tabs.js';

export const ENDPOINT = 'http://sync.test';

export function fakeLifecycle() {
  const listeners = new Map();
  let online = true;
  return {
    isOnline: () => online,
    on(type, listener) {
      if (!listeners.has(type)) listeners.set(type, new Set());
      listeners.get(type).add(listener);
      return () => listeners.get(type).delete(listener);
    },
    emit(type) {
      if (type === 'online') online = true;
      if (type === 'offline') online = false;
      for (const listener of [...(listeners.get(type) ?? [])]) listener();
    },
  };
}

// `fault(request)` -> null | { kind: 'drop-request' | 'drop-response' | 'fail' | 'hold', ... }.
export async function createDevice({ seed = 1, fault = () => null, storeFor, engineConfig } = {}) {
  const core = await loadCore();
  const time = new FakeTime();
  const server = new FakeServer({ now: () => time.wallMs, fault: (request) => device.fault(request) });
  const idb = new IDBFactory();
  const browser = new FakeBrowser();
  const lifecycle = fakeLifecycle();
  const random = seededRandom(seed);
  const tabs = [];
  const device = {
    core, time, server, idb, browser, lifecycle, tabs, fault,
    transport: createFetchTransport({ endpoint: ENDPOINT, auth: devAuth(), fetch: server.fetch }),
    randomBytes(count) {
      return Uint8Array.from({ length: count }, () => Math.floor(random() * 256));
    },
    async openTab({ withTabs = true } = {}) {
      const tab = browser.tab();
      const life = killable();
      const timers = time.group();
      const inner = storeFor ? await storeFor(device) : await IndexedDbStore.open(idb, { keyRange: IDBKeyRange });
      const manager = await createEarningsManager({
        core,
        storage: life.store(inner),
        // Requests time out on the tab's virtual timers, like everything else it waits for.
        transport: createFetchTransport({ endpoint: ENDPOINT, auth: devAuth(), fetch: life.fetch(server.fetch), timers }),
        clock: time.clock,
        timers,
        lifecycle,
        telegram: null,
        tabs: withTabs ? tab.services : null,
        seed: Math.floor(random() * 0xffffffff),
        randomBytes: device.randomBytes,
        engineConfig,
        env: {},
      });
      const handle = {
        manager,
        alive: true,
        kill() {
          handle.alive = false;
          life.kill();
          timers.kill();
          tab.kill();
        },
      };
      tabs.push(handle);
      return handle;
    },
    liveTabs: () => tabs.filter((tab) => tab.alive),
  };
  return device;
}

// A device on which one tab mined `userId` for 10 s at `rate`, synced it all and closed, so the
// next tab restores a synced record. `closedState` is what that tab showed last.
export async function deviceThatMinedAndSynced(userId, rate, tabOptions) {
  const device = await createDevice();
  const first = await device.openTab(tabOptions);
  await first.manager.initializeUser(userId);
  await first.manager.setMining(userId, { active: true, rate });
  await device.time.advance(10_000);
  await first.manager.syncToDatabase(userId, true);
  const closedState = first.manager.state(userId);
  await first.manager.dispose();
  return { device, closedState };
}
