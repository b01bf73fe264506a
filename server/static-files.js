// Optional static files (the demo page and dist/) from the same origin as the API, so a browser
// demo needs no second server and no CORS. Mounts are { prefix, dir }; the longest matching
// prefix wins. Nothing outside a mount's folder is ever served.
import fs from 'node:fs';
import path from 'node:path';
import { pipeline } from 'node:stream';

const CONTENT_TYPES = {
  '.html': 'text/html; charset=utf-8',
  '.js': 'text/javascript; charset=utf-8',
  '.mjs': 'text/javascript; charset=utf-8',
  '.css': 'text/css; charset=utf-8',
  '.json': 'application/json',
  '.map': 'application/json',
  '.wasm': 'application/wasm',
  '.svg': 'image/svg+xml',
  '.png': 'image/png',
  '.ico': 'image/x-icon',
  '.txt': 'text/plain; charset=utf-8',
};

// `headers` go on every file answered (the server's CORS headers).
export function createStaticFiles(mounts, headers = {}) {
  const resolved = mounts
    .map(({ prefix, dir }) => ({ prefix: prefix.endsWith('/') ? prefix : `${prefix}/`, root: path.resolve(dir) }))
    .sort((a, b) => b.prefix.length - a.prefix.length);

  function locate(pathname) {
    let decoded;
    try {
      decoded = decodeURIComponent(pathname);
    } catch {
      return null;
    }
    if (decoded.includes('\0')) return null;
    const mount = resolved.find((m) => decoded === m.prefix.slice(0, -1) || decoded.startsWith(m.prefix));
    if (!mount) return null;
    const file = path.resolve(mount.root, `.${decoded.slice(mount.prefix.length - 1)}`);
    if (file !== mount.root && !file.startsWith(mount.root + path.sep)) return null;
    return file;
  }

  // The file opened, with its stat taken from the open handle, so a file removed or replaced after
  // the check is never the one read; null for anything that is not a readable regular file (a
  // directory answers its index.html). O_NONBLOCK: opening a FIFO must not block a thread.
  async function open(located) {
    let handle = null;
    let file = located;
    try {
      handle = await fs.promises.open(file, fs.constants.O_RDONLY | fs.constants.O_NONBLOCK);
      let stat = await handle.stat();
      if (stat.isDirectory()) {
        await handle.close();
        handle = null;
        // The answer's type is the index's, not the folder's.
        file = path.join(file, 'index.html');
        handle = await fs.promises.open(file, fs.constants.O_RDONLY | fs.constants.O_NONBLOCK);
        stat = await handle.stat();
      }
      if (stat.isFile()) return { handle, file, size: stat.size };
    } catch {
      // Missing, unreadable (EACCES), not a folder on the way: not served.
    }
    await handle?.close().catch(() => {});
    return null;
  }

  return {
    // Resolves true when it answered the request.
    async serve(req, res, pathname) {
      if (resolved.length === 0) return false;
      const located = locate(pathname);
      const opened = located && (await open(located));
      if (!opened) return false;
      const { handle, file, size } = opened;
      res.writeHead(200, {
        ...headers,
        'Content-Type': CONTENT_TYPES[path.extname(file)] ?? 'application/octet-stream',
        'Content-Length': size,
        'Cache-Control': 'no-cache',
      });
      if (req.method === 'HEAD' || size === 0) {
        await handle.close();
        res.end();
        return true;
      }
      // A read that fails half-way (an I/O error, a file cut short) cannot change an answer whose
      // head is sent: the socket is closed, and the client sees a truncated body, not a crash.
      pipeline(handle.createReadStream({ start: 0, end: size - 1 }), res, (error) => {
        if (error) res.destroy();
      });
      return true;
    },
  };
}
