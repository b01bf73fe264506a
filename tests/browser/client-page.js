// Test page for tests/browser/client*.test.js: the package as an app uses it (real IndexedDB,
// localStorage, Web Locks, BroadcastChannel, fetch), with a handle the test drives through
// page.evaluate. Nothing here decides anything about earnings.
import { createEarningsManager, devAuth, loadCore } from '/js/index.js';

const events = [];
let manager = null;

window.teg = {
  events,
  async open({ userId, engineConfig, tabs = true, legacyStorageKey }) {
    manager ??= await createEarningsManager({
      endpoint: location.origin,
      auth: devAuth(),
      engineConfig,
      legacyStorageKey,
      ...(tabs ? {} : { tabs: null }),
    });
    for (const type of ['sync', 'corruption', 'storage-degraded', 'quota', 'conflict', 'error']) {
      manager.on(type, (detail) => events.push({ type, code: detail?.code ?? detail?.error?.code ?? null }));
    }
    return manager.initializeUser(userId);
  },
  storeKind: () => manager.storageKind,
  isLeader: (userId) => manager.isLeader(userId),
  mine: (userId, rate) => manager.setMining(userId, { active: true, rate }),
  earn: (userId, amount) => manager.updateEarnings(userId, amount),
  async sync(userId) {
    const result = await manager.syncToDatabase(userId, true);
    return { status: result.status, state: result.state };
  },
  state: (userId) => manager.state(userId),
  settled: () => manager.settled(),
  // bench/client-restore.js: time from "module loaded" to "user's state restored and ready",
  // each run with a new manager and a new IndexedDB connection.
  async restoreTimes({ userId, runs, engineConfig }) {
    await loadCore();
    const times = [];
    for (let run = 0; run < runs; run += 1) {
      const started = performance.now();
      const fresh = await createEarningsManager({ endpoint: location.origin, auth: devAuth(), engineConfig, tabs: null });
      await fresh.initializeUser(userId);
      times.push(performance.now() - started);
      await fresh.dispose();
    }
    return times;
  },
  dispose: () => manager.dispose(),
};
window.tegReady = true;
