// Debian's haproxy (2.6) in front of several sync server processes, as production runs them:
// two fronts over the same processes, one routing by a consistent hash of the Authorization
// header (a user's syncs reach the process that holds that user's row in its cache, and only a
// removed process's users move), one round robin (any sync to any process). Every answer names
// the process that served it (X-Served-By: p0, p1, ...). Used by bench/server.js and
// tests/server/balancer.test.js; started in the foreground, so it ends with its caller.
import { spawn } from 'node:child_process';
import fs from 'node:fs';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';

export const HAPROXY = process.env.HAPROXY ?? '/usr/sbin/haproxy';

export function freePort() {
  return new Promise((resolve) => {
    const server = net.createServer();
    server.listen(0, '127.0.0.1', () => {
      const { port } = server.address();
      server.close(() => resolve(port));
    });
  });
}

// A process that refuses connections (restarting) is skipped: health checks take it out, and a
// request that finds it closed is tried on another (retries with redispatch). A busy machine
// answers a health check slowly; only a process that is gone fails it.
function config({ hashedPort, roundRobinPort, serverPorts }) {
  const servers = serverPorts.map((port, i) => `  server p${i} 127.0.0.1:${port} check inter 1s fall 2 rise 1`).join('\n');
  return `global
  maxconn 4000

defaults
  mode http
  timeout connect 2s
  timeout client 30s
  timeout server 30s
  timeout check 10s
  retries 3
  option redispatch 1
  option httpchk GET /healthz

frontend hashed
  bind 127.0.0.1:${hashedPort}
  default_backend by_user

frontend round_robin
  bind 127.0.0.1:${roundRobinPort}
  default_backend any_process

backend by_user
  balance hdr(Authorization)
  hash-type consistent
  http-response set-header X-Served-By %[srv_name]
${servers}

backend any_process
  balance roundrobin
  http-response set-header X-Served-By %[srv_name]
${servers}
`;
}

// Resolves once `url` answers /healthz through the balancer from every process in `names`
// (haproxy listening, every process up).
async function untilServed(url, names) {
  const seen = new Set();
  while (names.some((name) => !seen.has(name))) {
    try {
      const answer = await fetch(`${url}/healthz`);
      await answer.arrayBuffer();
      if (answer.status === 200) seen.add(answer.headers.get('x-served-by'));
    } catch {
      // Not listening yet: poll again.
      await new Promise((resolve) => setTimeout(resolve, 50));
    }
  }
}

// Resolves with { hashed, roundRobin (base URLs), pid, stop() } once haproxy routes to every one
// of the processes at `serverPorts` (REQUIRES: they are listening).
export async function startBalancer(serverPorts) {
  const [hashedPort, roundRobinPort] = [await freePort(), await freePort()];
  const folder = fs.mkdtempSync(path.join(os.tmpdir(), 'earnings-haproxy-'));
  const file = path.join(folder, 'haproxy.cfg');
  fs.writeFileSync(file, config({ hashedPort, roundRobinPort, serverPorts }));
  const check = spawn(HAPROXY, ['-c', '-f', file], { stdio: ['ignore', 'ignore', 'inherit'] });
  const checked = await new Promise((resolve) => check.once('exit', resolve));
  if (checked !== 0) {
    fs.rmSync(folder, { recursive: true, force: true });
    throw new Error(`haproxy refused its config (exit ${checked})`);
  }
  // -db: stay in the foreground; -q: no health-check chatter on stderr.
  const child = spawn(HAPROXY, ['-db', '-q', '-f', file], { stdio: ['ignore', 'ignore', 'inherit'] });
  const balancer = {
    hashed: `http://127.0.0.1:${hashedPort}`,
    roundRobin: `http://127.0.0.1:${roundRobinPort}`,
    pid: child.pid,
    async stop() {
      if (child.exitCode === null && child.signalCode === null) {
        const exited = new Promise((resolve) => child.once('exit', resolve));
        child.kill('SIGTERM');
        await exited;
      }
      fs.rmSync(folder, { recursive: true, force: true });
    },
  };
  try {
    await untilServed(balancer.roundRobin, serverPorts.map((_, i) => `p${i}`));
  } catch (error) {
    await balancer.stop();
    throw error;
  }
  return balancer;
}
