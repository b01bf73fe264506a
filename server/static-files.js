// Optional static files (the demo page and dist/) from the same origin as the API, so a browser
// demo needs no second server and no CORS. Mounts are { prefix, dir }; the longest matching
// prefix wins. Nothing outside a mount's folder is ever served.
import fs from 'node:fs';
import path from 'node:path';

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

  return {
    // Resolves true when it answered the request.
    async serve(req, res, pathname) {
      if (resolved.length === 0) return false;
      let file = locate(pathname);
      if (!file) return false;
      let stat = await fs.promises.stat(file).catch(() => null);
      if (stat?.isDirectory()) {
        file = path.join(file, 'index.html');
        stat = await fs.promises.stat(file).catch(() => null);
      }
      if (!stat?.isFile()) return false;
      res.writeHead(200, {
        ...headers,
        'Content-Type': CONTENT_TYPES[path.extname(file)] ?? 'application/octet-stream',
        'Content-Length': stat.size,
        'Cache-Control': 'no-cache',
      });
      if (req.method === 'HEAD') {
        res.end();
      } else {
        fs.createReadStream(file).pipe(res);
      }
      return true;
    },
  };
}
