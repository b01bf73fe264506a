// The server as production runs it: `node server/main.js` in a child process, configured by the
// environment, its pino lines read from stdout. For the tests that signal or kill the process.
import { spawn } from 'node:child_process';
import path from 'node:path';
import readline from 'node:readline';
import { fileURLToPath } from 'node:url';

const MAIN = path.join(path.dirname(fileURLToPath(import.meta.url)), '..', '..', 'server', 'main.js');

// Starts the server with `env` added to a test set-up (any free port, dev identity, rates high
// enough that small claims are always credited in full, no per-user request limit and no load
// shedding: the load tests send far past the first, and the machine running the suite may lag
// past the second; limits.test.js tests both). Resolves once it listens:
// { child, url, port, lines, waitFor(predicate), exited: Promise<{ code, signal }> }.
export async function startChildServer(env) {
  const child = spawn(process.execPath, [MAIN], {
    env: {
      ...process.env,
      PORT: '0',
      HOST: '127.0.0.1',
      DEV_IDENTITY: '1',
      DEFAULT_RATE_PER_HOUR: '1000',
      USER_REQUESTS_PER_S: '0',
      MAX_EVENT_LOOP_DELAY_MS: '0',
      ...env,
    },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  const lines = [];
  const waiters = [];
  let stderr = '';
  child.stderr.on('data', (chunk) => {
    stderr += chunk;
  });
  readline.createInterface({ input: child.stdout }).on('line', (text) => {
    let line;
    try {
      line = JSON.parse(text);
    } catch {
      return;
    }
    lines.push(line);
    for (const waiter of waiters.filter((w) => w.predicate(line))) {
      waiters.splice(waiters.indexOf(waiter), 1);
      waiter.resolve(line);
    }
  });
  const exited = new Promise((resolve) => child.once('exit', (code, signal) => resolve({ code, signal })));
  const waitFor = (predicate) => {
    const found = lines.find(predicate);
    if (found) return Promise.resolve(found);
    return new Promise((resolve, reject) => {
      waiters.push({ predicate, resolve });
      exited.then(({ code, signal }) => {
        const last = lines.slice(-3).map((line) => JSON.stringify(line)).join('\n');
        reject(new Error(`server exited (${code ?? signal}) first:\n${last}\n${stderr.slice(-2000)}`));
      });
    });
  };
  const { url } = await waitFor((line) => typeof line.url === 'string');
  return { child, url, port: Number(new URL(url).port), lines, waitFor, exited };
}
