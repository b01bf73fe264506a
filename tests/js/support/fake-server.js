// In-process stand-in for the sync server speaking the protocol of docs/DESIGN.md, reached through
// a fake `fetch` so the real transport is exercised. It credits every valid op (the real server's
// budget rules are tested against the real server), dedups by (clientId, seq) like the real one,
// and injects faults: drop the request, drop the response after committing, fail with a status
// (and `code`, `headers` such as Retry-After), or run a test's interleaving while the request is held.
const SCALE = 100_000_000n;
const AMOUNT = /^(\d{1,10})(?:\.(\d{1,8}))?$/;

export function toUnits(text) {
  const match = AMOUNT.exec(text);
  if (!match) throw new Error(`bad amount ${text}`);
  return BigInt(match[1]) * SCALE + BigInt((match[2] ?? '').padEnd(8, '0'));
}

export function fromUnits(units) {
  const whole = units / SCALE;
  const frac = (units % SCALE).toString().padStart(8, '0');
  return `${whole}.${frac}`;
}

export class FakeServer {
  // `now()` is the server's clock (ms). `fault(request)` picks a fault for each request or null.
  // The server, not the client, owns each user's rate (`rate`, TON per hour).
  constructor({ now, fault = () => null, rate = '3.60000000' } = {}) {
    this.now = now;
    this.rate = rate;
    this.fault = fault;
    this.users = new Map();
    this.log = [];
    this.fetch = (url, init) => this.handle(url, init ?? {});
  }

  user(userId) {
    if (!this.users.has(userId)) {
      this.users.set(userId, {
        credited: 0n, review: 0n, lastSeq: new Map(), opOutcome: new Map(), applied: [], rate: this.rate,
        startDate: this.now(), lastUpdate: this.now(), isActive: false,
      });
    }
    return this.users.get(userId);
  }

  creditedUnits(userId) {
    return this.users.get(userId)?.credited ?? 0n;
  }

  identify(headers) {
    const value = headers?.Authorization ?? headers?.authorization ?? '';
    const match = /^dev (\d+)$/.exec(value);
    return match ? Number(match[1]) : null;
  }

  stateOf(userId, clientId) {
    const user = this.user(userId);
    return {
      userId,
      totalEarned: fromUnits(user.credited),
      currentEarnings: fromUnits(user.credited),
      baseEarningRate: user.rate,
      pendingReview: fromUnits(user.review),
      lastSeq: user.lastSeq.get(clientId) ?? 0,
      lastUpdate: user.lastUpdate,
      startDate: user.startDate,
      isActive: user.isActive,
      syncStatus: 'synced',
    };
  }

  async handle(url, init) {
    const parsed = new URL(url, 'http://fake.invalid');
    const request = { path: parsed.pathname, method: init.method ?? 'GET', keepalive: Boolean(init.keepalive) };
    const fault = this.fault(request);
    this.log.push({ ...request, fault: fault?.kind ?? null });
    if (fault?.kind === 'drop-request') throw new TypeError('fetch failed (request dropped)');
    // `body`: what a misconfigured endpoint sends instead (a proxy's HTML page, a plain text
    // error, the protocol's error with another code); default: the protocol's error with `code`.
    if (fault?.kind === 'fail') {
      if (typeof fault.body === 'string') return new Response(fault.body, { status: fault.status, headers: { 'Content-Type': 'text/html', ...fault.headers } });
      return json(fault.status ?? 503, fault.body ?? { error: { code: fault.code ?? 'UNAVAILABLE', message: 'injected' } }, fault.headers);
    }
    if (fault?.kind === 'hold') await fault.during();
    const userId = this.identify(init.headers);
    if (userId === null) return json(401, { error: { code: 'UNAUTHORIZED', message: 'no identity' } });
    let response;
    if (request.path === '/v1/state' && request.method === 'GET') {
      const clientId = parsed.searchParams.get('clientId') ?? '';
      response = json(200, { state: this.stateOf(userId, clientId), serverTime: this.now() });
    } else if (request.path === '/v1/sync' && request.method === 'POST') {
      response = this.sync(userId, init.body);
    } else {
      response = json(404, { error: { code: 'NOT_FOUND', message: request.path } });
    }
    if (fault?.kind === 'drop-response') throw new TypeError('fetch failed (response lost after commit)');
    return response;
  }

  sync(userId, bodyText) {
    let body;
    try {
      body = JSON.parse(bodyText);
    } catch {
      return json(400, { error: { code: 'REQUEST_INVALID', message: 'body is not JSON' } });
    }
    if (typeof body?.clientId !== 'string' || !Array.isArray(body.ops)) {
      return json(400, { error: { code: 'REQUEST_INVALID', message: 'clientId and ops required' } });
    }
    const user = this.user(userId);
    const results = [];
    let blocked = false;
    for (const op of body.ops) {
      const lastSeq = user.lastSeq.get(body.clientId) ?? 0;
      if (blocked) {
        results.push({ id: op.id, seq: op.seq, status: 'gap', expectedSeq: lastSeq + 1 });
      } else if (op.seq <= lastSeq) {
        const original = user.opOutcome.get(op.id) ?? { credited: '0.00000000', review: '0.00000000' };
        results.push({ id: op.id, seq: op.seq, status: 'duplicate', ...original });
      } else if (op.seq > lastSeq + 1) {
        blocked = true;
        results.push({ id: op.id, seq: op.seq, status: 'gap', expectedSeq: lastSeq + 1 });
      } else {
        const units = toUnits(op.amount);
        const toReview = op.type === 'verification';
        if (toReview) user.review += units;
        else user.credited += units;
        user.isActive = true;
        user.lastUpdate = this.now();
        user.lastSeq.set(body.clientId, op.seq);
        const outcome = toReview
          ? { credited: '0.00000000', review: op.amount }
          : { credited: op.amount, review: '0.00000000' };
        user.opOutcome.set(op.id, outcome);
        user.applied.push({ id: op.id, type: op.type, amount: op.amount, from: op.from, to: op.to });
        results.push({ id: op.id, seq: op.seq, status: toReview ? 'review' : 'applied', ...outcome });
      }
    }
    return json(200, { results, state: this.stateOf(userId, body.clientId), serverTime: this.now() });
  }
}

function json(status, body, headers = {}) {
  return new Response(JSON.stringify(body), { status, headers: { 'Content-Type': 'application/json', ...headers } });
}
