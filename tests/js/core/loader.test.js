// loadCore: memoization, the wasmBinary / wasmUrl / moduleFactory overrides, and the two loader
// errors (WASM_NOT_FOUND, WASM_INVALID) for every way a deployment gets the wasm wrong.
import { test, describe, before, after } from 'node:test';
import assert from 'node:assert/strict';
import http from 'node:http';
import { readFile } from 'node:fs/promises';

import { loadCore, EarningsError, errorFromCode } from '../../../js/core.js';
import createEarningsCore from '../../../dist/earnings-core.mjs';

const wasmPath = new URL('../../../dist/earnings-core.wasm', import.meta.url);

async function rejectsWithCode(promise, code) {
  await assert.rejects(promise, (error) => {
    assert.ok(error instanceof EarningsError, `expected an EarningsError, got ${error}`);
    assert.equal(error.code, code, error.message);
    return true;
  });
}

describe('loadCore', () => {
  let wasmBytes;
  let server;
  let baseUrl;
  let flakyServes = false;
  const requests = [];

  before(async () => {
    wasmBytes = await readFile(wasmPath);
    server = http.createServer((request, response) => {
      requests.push(request.url);
      if (request.url === '/earnings-core.wasm' || (request.url === '/flaky.wasm' && flakyServes)) {
        response.writeHead(200, { 'content-type': 'application/wasm' });
        response.end(wasmBytes);
      } else if (request.url === '/spa-fallback.wasm') {
        // A single-page-app server answering index.html for every unknown path.
        response.writeHead(200, { 'content-type': 'text/html' });
        response.end('<!doctype html><html><body>app</body></html>');
      } else {
        response.writeHead(404, { 'content-type': 'text/plain' });
        response.end('not found');
      }
    });
    await new Promise((resolve) => server.listen(0, '127.0.0.1', resolve));
    baseUrl = `http://127.0.0.1:${server.address().port}`;
  });

  after(() => new Promise((resolve) => server.close(resolve)));

  test('the default load reads dist/ and is memoized', async () => {
    const first = loadCore();
    const second = loadCore();
    assert.equal(first, second, 'concurrent calls share one pending load');
    const core = await first;
    assert.equal(core, await loadCore());
    assert.equal(core.version, '1.0.0');
    assert.equal(core.parseAmount('1.5'), '1.50000000');
  });

  test('wasmBinary overrides the file, once per buffer', async () => {
    const core = await loadCore({ wasmBinary: wasmBytes });
    assert.notEqual(core, await loadCore(), 'a core of its own, not the default one');
    assert.equal(core, await loadCore({ wasmBinary: wasmBytes }));
    assert.equal(core.parseAmount('2'), '2.00000000');
    const fromArrayBuffer = await loadCore({
      wasmBinary: wasmBytes.buffer.slice(wasmBytes.byteOffset, wasmBytes.byteOffset + wasmBytes.length),
    });
    assert.equal(fromArrayBuffer.parseAmount('0.1'), '0.10000000');
    const compiled = await WebAssembly.compile(wasmBytes);
    assert.equal((await loadCore({ wasmBinary: compiled })).version, '1.0.0');
  });

  test('wasmUrl fetches over HTTP, once per URL', async () => {
    const url = `${baseUrl}/earnings-core.wasm`;
    const before = requests.length;
    const core = await loadCore({ wasmUrl: url });
    assert.equal(core, await loadCore({ wasmUrl: new URL(url) }));
    assert.equal(requests.length - before, 1, 'the second call did not fetch again');
    assert.equal(core.addAmounts('0.1', '0.2'), '0.30000000');
  });

  test('a server answering HTML for the wasm is WASM_INVALID and says so', async () => {
    await assert.rejects(loadCore({ wasmUrl: `${baseUrl}/spa-fallback.wasm` }), (error) => {
      assert.equal(error.code, 'WASM_INVALID');
      assert.equal(error.name, 'WasmInvalidError');
      assert.match(error.message, /<!doctype html>/);
      assert.match(error.message, /HTML/);
      return true;
    });
  });

  test('a 404, an unreachable server, a missing file and a non-URL are WASM_NOT_FOUND', async () => {
    await rejectsWithCode(loadCore({ wasmUrl: `${baseUrl}/missing.wasm` }), 'WASM_NOT_FOUND');
    const closed = http.createServer();
    await new Promise((resolve) => closed.listen(0, '127.0.0.1', resolve));
    const closedPort = closed.address().port;
    await new Promise((resolve) => closed.close(resolve));
    await rejectsWithCode(loadCore({ wasmUrl: `http://127.0.0.1:${closedPort}/x.wasm` }), 'WASM_NOT_FOUND');
    await rejectsWithCode(loadCore({ wasmUrl: 'file:///nonexistent/earnings-core.wasm' }), 'WASM_NOT_FOUND');
    await rejectsWithCode(loadCore({ wasmUrl: 'relative/without/base.wasm' }), 'WASM_NOT_FOUND');
  });

  test('a failed load is forgotten, so the next call tries again', async () => {
    const url = `${baseUrl}/flaky.wasm`;
    await rejectsWithCode(loadCore({ wasmUrl: url }), 'WASM_NOT_FOUND');
    flakyServes = true;
    const core = await loadCore({ wasmUrl: url });
    assert.equal(core.parseAmount('3'), '3.00000000');
  });

  test('bytes that are not this module are WASM_INVALID', async () => {
    const html = new TextEncoder().encode('<html>not wasm</html>');
    await rejectsWithCode(loadCore({ wasmBinary: html }), 'WASM_INVALID');
    await rejectsWithCode(loadCore({ wasmBinary: wasmBytes.subarray(0, wasmBytes.length / 2) }), 'WASM_INVALID');
    // A valid but empty module: compiles, yet has none of the exports the loader needs.
    const empty = new Uint8Array([0x00, 0x61, 0x73, 0x6d, 0x01, 0x00, 0x00, 0x00]);
    await rejectsWithCode(loadCore({ wasmBinary: empty }), 'WASM_INVALID');
    await rejectsWithCode(loadCore({ wasmBinary: 'not bytes' }), 'WASM_INVALID');
    await rejectsWithCode(loadCore({ wasmBinary: {} }), 'WASM_INVALID');
  });

  test('options must be an object', async () => {
    await rejectsWithCode(loadCore(null), 'CONFIG_INVALID');
    await rejectsWithCode(loadCore('dist/earnings-core.wasm'), 'CONFIG_INVALID');
  });

  test('moduleFactory plugs in another build of the loader', async () => {
    let calls = 0;
    const factory = (moduleArg) => {
      calls += 1;
      return createEarningsCore(moduleArg);
    };
    const core = await loadCore({ wasmBinary: new Uint8Array(wasmBytes), moduleFactory: factory });
    assert.equal(calls, 1);
    assert.equal(core.parseAmount('4'), '4.00000000');
  });

  test('every code the wasm can report has its own error class', async () => {
    const core = await loadCore();
    assert.ok(core.errorCodes.includes('AMOUNT_MALFORMED'));
    assert.ok(core.errorCodes.includes('CONFIG_INVALID'));
    for (const code of core.errorCodes) {
      const error = errorFromCode(code, 'message');
      assert.notEqual(error.constructor, EarningsError, `${code} has no subclass`);
      assert.equal(error.code, code);
      assert.equal(error.constructor.code, code);
      assert.ok(error instanceof Error);
    }
    const future = errorFromCode('SOMETHING_NEW', 'from a newer core');
    assert.equal(future.constructor, EarningsError);
    assert.equal(future.code, 'SOMETHING_NEW');
  });
});
