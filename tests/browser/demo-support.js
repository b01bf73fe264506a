// What the demo page tests share: the demo's sync server (PGlite in a temp folder, dev identity,
// the test's clock) on loopback and headless Chromium, started before a file's first test; one
// screenshot folder; and waiting for what the page shows.
import { after, before } from 'node:test';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

import pino from 'pino';

import { createServer } from '../../server/app.js';
import { demoServerOptions } from '../../web-demo/launch.js';
import { launchChromium } from '../js/support/chromium.js';

const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../..');
export const DEMO_SHOTS = path.join(ROOT, 'test-results', 'demo');

// Registers the test file's before and after hooks: before, the server and the browser start (as
// `demo.server` and `demo.browser`); after, both end and the data folder is deleted. `options` go
// to the server as they are (admin and bot tokens).
export function demoServerAndChromium({ dataDirPrefix, now, ...options }) {
  const demo = { server: null, browser: null };
  let dataDir = null;
  before(async () => {
    fs.mkdirSync(DEMO_SHOTS, { recursive: true });
    dataDir = fs.mkdtempSync(path.join(os.tmpdir(), dataDirPrefix));
    demo.server = await createServer({
      ...demoServerOptions({}),
      port: 0,
      host: '127.0.0.1',
      dataDir,
      devIdentity: true,
      now,
      logger: pino({ level: 'error' }),
      ...options,
    });
    await demo.server.listen();
    demo.browser = await launchChromium();
  });
  after(async () => {
    await demo.browser?.close();
    await demo.server?.close();
    if (dataDir) fs.rmSync(dataDir, { recursive: true, force: true });
  });
  return demo;
}

// Waits until the element with data-testid `testId` shows text matching `pattern`; on timeout the
// error says what it showed instead.
export async function waitForText(page, testId, pattern) {
  try {
    await page.waitForFunction(
      ([id, source]) => new RegExp(source).test(document.querySelector(`[data-testid="${id}"]`)?.textContent ?? ''),
      [testId, pattern.source],
      { timeout: 10_000 },
    );
  } catch (error) {
    const shown = await page.textContent(`[data-testid="${testId}"]`);
    throw new Error(`${testId} never matched ${pattern}; it shows: ${shown}`, { cause: error });
  }
}
