// Runs inside a folder where only the packed tarball is installed: every import below must
// resolve through the package's "exports", as it does for users.
import assert from 'node:assert/strict';
import { createEarningsManager, loadCore, MemoryStore, ClientError, UserIdInvalidError } from 'ton-earnings-guard';
import { loadCore as loadCoreDirect } from 'ton-earnings-guard/core';
// The server entry loads with the production install alone (npm install --omit=dev).
import * as server from 'ton-earnings-guard/server';

const core = await loadCore();
assert.equal(core, await loadCoreDirect());
assert.equal(core.parseAmount('1.5'), '1.50000000');

const replies = [];
const manager = await createEarningsManager({
  core,
  storage: new MemoryStore(),
  tabs: null,
  telegram: null,
  transport: {
    async sync(request) {
      replies.push(request);
      return { status: 0, text: '', error: 'offline in this smoke test' };
    },
    async fetchState() {
      return { status: 0, text: '' };
    },
  },
});
const state = await manager.initializeUser(42);
assert.equal(state.userId, 42);
assert.equal(typeof state.currentEarnings, 'string');
await assert.rejects(manager.initializeUser(0), UserIdInvalidError);
assert.ok(ClientError.prototype instanceof Error);
await manager.dispose();
for (const name of ['createServer', 'startServer', 'setUserRate', 'configFromEnv', 'openDatabase', 'migrate', 'ServerError']) {
  assert.equal(typeof server[name], 'function', `ton-earnings-guard/server exports ${name}`);
}
console.log(`node import ok: core ${core.version}, state ${state.currentEarnings}`);
