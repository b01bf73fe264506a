// Stored records compressed with deflate-raw where the platform has CompressionStream (all current
// browsers, Node 18+). The core's record keys repeat in every audit entry, so a record shrinks
// several times over; less storage means fewer quota failures and more users per device
// (Properties 10, 22). Compressed values carry their own 4-byte mark; anything else is returned
// as stored, so uncompressed records from older versions or other platforms keep working. A
// compressed value that does not inflate is handed on as stored: the core then reports it as
// corrupt and it is quarantined like any other damage.
const MARK = [0x54, 0x45, 0x5a, 0x01]; // "TEZ" + format 1

function isCompressed(bytes) {
  return bytes.length > MARK.length && MARK.every((byte, i) => bytes[i] === byte);
}

// The bytes go in through the stream's own writer: a Blob's stream (the obvious way) is read
// through the browser's blob registry, which cost Chromium 2.3 ms per record against 0.1 ms this
// way (docs/PERFORMANCE.md, "A tap"), and a record is written on every tap. The writes are not
// awaited: draining the readable side is what lets them finish, and a failure surfaces there.
async function pipe(bytes, transform) {
  const writer = transform.writable.getWriter();
  writer.write(bytes).catch(() => {});
  writer.close().catch(() => {});
  return new Uint8Array(await new Response(transform.readable).arrayBuffer());
}

export function withCompression(inner, env = globalThis) {
  const { CompressionStream, DecompressionStream } = env;
  if (typeof CompressionStream !== 'function' || typeof DecompressionStream !== 'function') return inner;
  const deflate = async (bytes) => {
    const deflated = await pipe(bytes, new CompressionStream('deflate-raw'));
    if (deflated.length + MARK.length >= bytes.length) return bytes;
    const value = new Uint8Array(MARK.length + deflated.length);
    value.set(MARK);
    value.set(deflated, MARK.length);
    return value;
  };
  return {
    kind: inner.kind,
    durable: inner.durable,
    compressed: true,
    async get(key) {
      const stored = await inner.get(key);
      if (!stored || !isCompressed(stored)) return stored;
      try {
        return await pipe(stored.subarray(MARK.length), new DecompressionStream('deflate-raw'));
      } catch {
        return stored;
      }
    },
    async put(key, bytes) {
      await inner.put(key, await deflate(bytes));
    },
    ...(inner.journal ? {
      journal: true,
      // A journal entry is a few hundred bytes: deflating it would cost a tap more than it saves.
      append: (key, bytes) => inner.append(key, bytes),
      checkpoint: async (key, bytes, journalPrefix) => inner.checkpoint(key, await deflate(bytes), journalPrefix),
      readJournal: (prefix) => inner.readJournal(prefix),
    } : {}),
    delete: (key) => inner.delete(key),
    list: (prefix) => inner.list(prefix),
    close: () => inner.close(),
  };
}
