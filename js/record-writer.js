// Group commit for one user's record (leveldb's write batching, for a store that holds one value
// per user): the engine holds the record in memory and every write stores all of it, so a write
// that starts after a change carries that change and every other one made before it.
//
// Contract: `flush()` settles with the outcome of the first write that starts after the call,
// never an earlier one: it resolves with what `write()` returned, or rejects with what it threw,
// for exactly the calls that write carried. At most one write runs at a time, so writes reach the
// store in order and a later one never lands under an earlier one; calls made while a write runs
// share the next one. A write is a checkpoint (the whole record) unless every call it carries
// asked only for its change to be stored (`flush({ journal: true })`, a tap): then `write` is told
// `{ checkpoint: false }` and may store a journal entry instead. REQUIRES: `write()` reads the
// state to store when it starts (the engine's checkpoint or journal entry), not when it was
// scheduled.
export class RecordWriter {
  // `write()`: stores the record, returns a value or a promise; `track(promise)`: lets the owner
  // wait for writes in flight (settled(), dispose()).
  constructor(write, { track = () => {} } = {}) {
    this.write = write;
    this.track = track;
    this.running = null;
    this.waiting = null;
  }

  flush({ journal = false } = {}) {
    if (this.running === null) return this.start(!journal);
    // A write is running and serialized before this call's change: the next one carries it.
    this.waiting ??= { ...resolvers(), checkpoint: false };
    if (!journal) this.waiting.checkpoint = true;
    return this.waiting.promise;
  }

  start(checkpoint) {
    const written = new Promise((resolve) => resolve(this.write({ checkpoint })));
    this.running = written;
    this.track(written);
    const next = () => {
      this.running = null;
      const waiting = this.waiting;
      if (waiting === null) return;
      this.waiting = null;
      this.start(waiting.checkpoint).then(waiting.resolve, waiting.reject);
    };
    written.then(next, next);
    return written;
  }
}

// Promise.withResolvers() where Node 20 and older browsers, which the package supports, lack it.
function resolvers() {
  let resolve;
  let reject;
  const promise = new Promise((res, rej) => {
    resolve = res;
    reject = rej;
  });
  return { promise, resolve, reject };
}
