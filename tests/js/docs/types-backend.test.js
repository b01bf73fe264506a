// What a backend's TypeScript reads (issue 12 part 4): a Node service compiles against the
// package's .d.ts without the DOM library (lib es2022 only, no @types at all), importing the core
// (`ton-earnings-guard/core`: loadCore, an engine) and the server (`ton-earnings-guard/server`),
// under strict, resolved by package name through its "exports" as in an app. Found trying the
// package as a new developer: core.d.ts named the DOM's WebAssembly, URL and Response.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { mkdtempSync, mkdirSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

const REPO = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../../..');
const TSC = path.join(path.dirname(createRequire(import.meta.url).resolve('typescript/package.json')), 'bin', 'tsc');

const BACKEND = `
import { loadCore, type LoadCoreOptions } from 'ton-earnings-guard/core';
import { configFromEnv, createServer } from 'ton-earnings-guard/server';

const options: LoadCoreOptions = { wasmUrl: 'https://cdn.example/earnings-core.wasm' };
const core = await loadCore(options);
const engine = core.createEngine({ userId: 5123456789, clientId: 'c-5f2a9d', seed: 7 });
engine.setRate(core.parseAmount('0.5'));
const balance: string = engine.state().currentEarnings;
engine.dispose();
const app = await createServer({ ...configFromEnv({}), dataDir: 'memory://' });
await app.close();
export { balance };
`;

// Compiles `source` as a backend module in a folder where the package is installed by a symlink;
// returns tsc's output ('' when it compiled).
function compileBackend(source) {
  const work = mkdtempSync(path.join(tmpdir(), 'teg-backend-types-'));
  try {
    mkdirSync(path.join(work, 'node_modules'));
    symlinkSync(REPO, path.join(work, 'node_modules', 'ton-earnings-guard'), 'dir');
    writeFileSync(path.join(work, 'package.json'), '{"type":"module"}');
    writeFileSync(path.join(work, 'backend.ts'), source);
    writeFileSync(path.join(work, 'tsconfig.json'), JSON.stringify({
      compilerOptions: {
        strict: true, noEmit: true, target: 'es2022', module: 'nodenext', moduleResolution: 'nodenext',
        lib: ['es2022'], types: [], skipLibCheck: false,
      },
      files: ['backend.ts'],
    }));
    try {
      execFileSync(process.execPath, [TSC, '-p', work], { cwd: work, encoding: 'utf8', stdio: 'pipe' });
      return '';
    } catch (error) {
      return `${error.stdout ?? ''}${error.stderr ?? ''}`;
    }
  } finally {
    rmSync(work, { recursive: true, force: true });
  }
}

test('a backend without the DOM library type-checks its imports of the core and the server under strict', () => {
  assert.equal(compileBackend(BACKEND), '');
});

test('the backend type check fails on a wrong call and on a DOM name (the test can fail)', () => {
  const output = compileBackend(`${BACKEND}\nengine.setRate(0.5);\ndocument.title = balance;\n`);
  assert.match(output, /Argument of type 'number' is not assignable to parameter of type 'string'/);
  assert.match(output, /Cannot find name 'document'/);
});
