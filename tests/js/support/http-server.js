// A tiny HTTP server for browser tests, bound to 127.0.0.1 on a free port: static files from the
// repository (the package's js/ and dist/, test pages) plus the fake sync server under /v1/, so
// pages and API share one origin. `headers` are sent with every static file (a page's
// Content-Security-Policy, say).
import http from 'node:http';
import { readFile } from 'node:fs/promises';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { FakeServer } from './fake-server.js';

const REPO = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../../..');
const TYPES = {
  '.html': 'text/html; charset=utf-8', '.js': 'text/javascript', '.mjs': 'text/javascript',
  '.wasm': 'application/wasm', '.json': 'application/json', '.css': 'text/css',
};

export async function startTestServer({ root = REPO, fault, headers = {} } = {}) {
  const sync = new FakeServer({ now: () => Date.now(), fault });
  const server = http.createServer(async (req, res) => {
    try {
      const url = new URL(req.url, 'http://127.0.0.1');
      if (url.pathname.startsWith('/v1/')) {
        const chunks = [];
        for await (const chunk of req) chunks.push(chunk);
        const response = await sync.handle(url.href, {
          method: req.method, headers: { Authorization: req.headers.authorization ?? '' },
          body: Buffer.concat(chunks).toString('utf8'),
        }).catch(() => null);
        if (!response) {
          req.socket.destroy();
          return;
        }
        res.writeHead(response.status, { 'Content-Type': 'application/json' });
        res.end(await response.text());
        return;
      }
      const file = path.resolve(root, `.${decodeURIComponent(url.pathname)}`);
      if (!file.startsWith(root + path.sep)) {
        res.writeHead(403).end();
        return;
      }
      const body = await readFile(file);
      res.writeHead(200, {
        'Content-Type': TYPES[path.extname(file)] ?? 'application/octet-stream', 'Cache-Control': 'no-store', ...headers,
      });
      res.end(body);
    } catch {
      if (!res.headersSent) res.writeHead(404).end('not found');
    }
  });
  await new Promise((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address();
  return {
    origin: `http://127.0.0.1:${port}`,
    sync,
    close: () => new Promise((resolve) => {
      server.closeAllConnections?.();
      server.close(resolve);
    }),
  };
}
