// Proves a browser app's bundle of the package holds the client and nothing of the server: no
// module of ton-earnings-guard/server or of its runtime libraries, and no server build of the core.
// Usage: node check-bundle.mjs <consumer dist folder>
import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';

const dist = process.argv[2];
const modules = JSON.parse(fs.readFileSync(path.join(dist, 'modules.json'), 'utf8')).map((id) => id.replaceAll('\\', '/'));
const fromPackage = modules.filter((id) => id.includes('/node_modules/ton-earnings-guard/'));
assert.ok(
  fromPackage.some((id) => id.endsWith('/ton-earnings-guard/js/index.js')),
  `the bundle should hold the client entry; modules: ${modules.join(', ')}`,
);
const SERVER_SIDE = /\/node_modules\/(ton-earnings-guard\/server\/|ton-earnings-guard\/dist\/earnings-core-server|pg\/|pg-[a-z-]+\/|pino|prom-client\/|@electric-sql\/)/;
const serverModules = modules.filter((id) => SERVER_SIDE.test(id));
assert.deepEqual(serverModules, [], 'server modules in the browser bundle');
const assets = fs.readdirSync(path.join(dist, 'assets'));
assert.deepEqual(assets.filter((name) => name.includes('server')), [], 'a server asset in the browser bundle');
console.log(`bundle ok: ${modules.length} modules (${fromPackage.length} of the package), none of the server`);
