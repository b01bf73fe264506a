// The core's one table of shared names (src/contract.h, `core.contract`): every error code the JS
// and the sync server emit, every event the engine and the client runtime raise, and the client-id
// rule come from it or are checked against it here.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readdir, readFile } from 'node:fs/promises';
import fc from 'fast-check';

import { loadCore, ErrorCode } from '../../../js/core.js';
import { ClientErrorCode } from '../../../js/client-errors.js';
import { EVENT_TYPES } from '../../../js/events.js';
import { loadServerCore } from '../../../server/core.js';

const root = new URL('../../../', import.meta.url);

async function sources(folder, extension) {
  const names = (await readdir(new URL(folder, root))).filter((name) => name.endsWith(extension));
  return Promise.all(names.map(async (name) => [`${folder}${name}`, await readFile(new URL(`${folder}${name}`, root), 'utf8')]));
}

// Every match of `pattern`'s first group in the files, with where it was found.
function found(files, pattern) {
  return files.flatMap(([file, text]) => [...text.matchAll(pattern)].map((match) => [match[1], file]));
}

const allCodes = ({ errorCodes }) =>
  new Set([...errorCodes.core, ...errorCodes.loader, ...errorCodes.client, ...errorCodes.server]);

test('every error code the JS and the server emit is in the core\'s table', async () => {
  const core = await loadCore();
  const codes = allCodes(core.contract);
  // The public constants apps import before the core is loaded.
  for (const code of Object.values(ErrorCode)) assert.ok(codes.has(code), `errors.js ErrorCode ${code}`);
  for (const code of Object.values(ClientErrorCode)) {
    assert.ok(core.contract.errorCodes.client.includes(code), `ClientErrorCode ${code}`);
  }
  // Every place that emits a literal code: error classes, their constructors and subclasses,
  // helpers, bodies.
  const files = [...(await sources('js/', '.js')), ...(await sources('server/', '.js'))];
  const emitted = found(files, /(?:ServerError|ClientError|errorFromCode|authError|super|defineError\('\w+',)\(?\s*'([A-Z][A-Z0-9_]+)'/g)
    .concat(found(files, /\bcode: '([A-Z][A-Z0-9_]+)'/g))
    .concat(found(files, /\bcode \?\? '([A-Z][A-Z0-9_]+)', message/g));
  assert.ok(emitted.length >= 30, `found ${emitted.length} emitting sites: the scan is looking in the right places`);
  for (const [code, file] of emitted) assert.ok(codes.has(code), `${file} emits ${code}, which the table lacks`);
  // An answer outside the sync protocol is reported as HTTP_<status>, the table's prefix.
  const prefixed = found(files, /`([A-Z]+_)\$\{[^}]*status\}`/g);
  assert.ok(prefixed.length > 0);
  for (const [prefix, file] of prefixed) assert.equal(prefix, core.contract.errorCodes.httpStatusPrefix, file);
});

test('the server\'s build of the core carries the same table', async () => {
  const [client, server] = await Promise.all([loadCore(), loadServerCore()]);
  assert.deepEqual(server.contract, client.contract);
  assert.ok(Object.isFrozen(client.contract.errorCodes.core));
});

test('every event the engine and the client runtime raise is in the core\'s table', async () => {
  const core = await loadCore();
  assert.deepEqual([...EVENT_TYPES], [...core.contract.eventTypes.client]);
  const js = await sources('js/', '.js');
  const raised = found(js, /\bevents\.emit\('([a-z-]+)'/g);
  assert.ok(raised.length >= 10);
  for (const [type, file] of raised) assert.ok(core.contract.eventTypes.client.includes(type), `${file} raises ${type}`);
  const cpp = await sources('src/', '.cpp');
  const engineEvents = found(cpp, /add\("type", "([a-z_]+)"\)/g);
  assert.ok(engineEvents.length >= 5);
  for (const [type, file] of engineEvents) assert.ok(core.contract.eventTypes.engine.includes(type), `${file} raises ${type}`);
});

test('the client-id rule: core.isClientId, the engine\'s checks and the table\'s message are one rule (200 runs)', async () => {
  const core = await loadCore();
  const engine = core.createEngine({ userId: 7, clientId: 'c-1', seed: 1 });
  const row = { userId: 7, totalEarned: '0.00000000', currentEarnings: '0.00000000', baseEarningRate: '0.00000000',
    pendingReview: '0.00000000', lastSeq: 0, lastUpdate: 0, startDate: 0, isActive: false, syncStatus: 'synced' };
  const text = JSON.stringify({ state: row, serverTime: 1000 });
  const chars = fc.constantFrom(...'aZ09_-', ' ', '.', ':', 'é', '\n');
  fc.assert(fc.property(fc.string({ unit: chars, minLength: 0, maxLength: 70 }), (id) => {
    const accepted = core.isClientId(id);
    assert.equal(accepted, id.length >= 1 && id.length <= core.contract.clientId.maxLength && /^[\w-]+$/.test(id));
    if (id === '') return;
    let engineAccepted = true;
    try {
      engine.recoverFromServer(text, { wall: 1000, mono: 1 }, { clientId: id });
    } catch (error) {
      assert.equal(error.code, 'CONFIG_INVALID');
      assert.equal(error.message, core.contract.clientId.message);
      engineAccepted = false;
    }
    assert.equal(engineAccepted, accepted, JSON.stringify(id));
  }), { numRuns: 200 });
  engine.dispose();
});
