// The demo page: a TON "mining" app built on ton-earnings-guard, with switches that break the
// network, the clock and the storage, and a feed that says what the client did about it. Every
// earnings decision is the package's; this file only wires it up and draws.
import {
  browserLifecycle, createEarningsManager, createFetchTransport, detectStore, devAuth, loadCore,
  ClientError, ClientErrorCode, IndexedDbStore, MemoryStore, recordKey,
} from 'ton-earnings-guard';

import { Sparkline } from './charts.js';
import {
  ClockFaults, NetworkFaults, StorageFaults, manualTimeSource, realTimeSource, seededRandom,
} from './faults.js';
import { formatAgo, formatClock, formatDuration, formatSpan, formatTon, isZeroAmount } from './format.js';
import { loadTelegramIfLaunched } from './telegram-launch.js';

const DEMO_USERS = [
  { id: 1001, name: 'Alice' },
  { id: 1002, name: 'Bob' },
  { id: 1003, name: 'Carol' },
];
const HOUR_MS = 3_600_000;
const FEED_KEY = 'demo:happenings';
const OFFLINE_KEY = 'demo:offline';
// Whether the second device was open, so a reload opens it again.
const SECOND_DEVICE_KEY = 'demo:second-device';
const FEED_LIMIT = 60;
// How far the server's measure of a clock jump may differ from the tick's and still be the same
// jump: the server's measure includes the sync's round trip; distinct jumps differ by far more.
const JUMP_MATCH_MS = 60_000;

const $ = (id) => document.getElementById(id);
const params = new URLSearchParams(location.search);

// Tests pass ?clock=manual&wall=<ms> and then move time themselves (window.demo.clock.advance),
// so nothing depends on how fast the machine is; everyone else gets the device's clocks.
function timeSourceFromParams() {
  if (params.get('clock') !== 'manual') return realTimeSource();
  const wall = Number(params.get('wall'));
  if (!Number.isSafeInteger(wall) || wall <= 0) throw new Error('?clock=manual needs &wall=<epoch ms>');
  const source = manualTimeSource({ wall });
  return {
    ...source,
    // The URL carries the manual clock, so a reload (crash, user switch) resumes at the same time
    // instead of travelling back to the time the test first opened the page.
    advance(ms) {
      source.advance(ms);
      const next = new URL(location.href);
      next.searchParams.set('wall', String(source.wall()));
      history.replaceState(null, '', next);
    },
  };
}

function chosenUserId() {
  const fromUrl = Number(params.get('user'));
  if (DEMO_USERS.some((user) => user.id === fromUrl)) return fromUrl;
  const remembered = Number(localStorage.getItem('demo:user'));
  if (DEMO_USERS.some((user) => user.id === remembered)) return remembered;
  return DEMO_USERS[0].id;
}

// The feed survives reloads in this tab: "corrupt, then reload" must still show the corruption
// after the page came back.
function storedFeed() {
  try {
    const items = JSON.parse(sessionStorage.getItem(FEED_KEY) ?? '[]');
    return Array.isArray(items) ? items : [];
  } catch {
    return [];
  }
}

const feed = {
  items: storedFeed(),
  // Stamped with the demo's clock, like the audit log, so both read the same time under a test's
  // manual clock.
  clock: { wall: () => Date.now() },
  add(text, tone = 'info') {
    const item = { text, tone, at: this.clock.wall() };
    this.items.unshift(item);
    this.items.length = Math.min(this.items.length, FEED_LIMIT);
    this.changed();
    return item;
  },
  // A later detection of the same happening adds to its line instead of repeating it.
  amend(item, addition) {
    item.text += addition;
    this.changed();
  },
  changed() {
    sessionStorage.setItem(FEED_KEY, JSON.stringify(this.items));
    this.render();
  },
  render() {
    const list = $('happenings');
    list.replaceChildren(...this.items.map(({ text, tone, at }) => {
      const item = document.createElement('li');
      item.dataset.tone = tone;
      const time = document.createElement('time');
      time.textContent = formatClock(at);
      item.append(time, text);
      return item;
    }));
  },
};

function showAlert(text, tone) {
  const alert = $('alert');
  alert.hidden = false;
  alert.textContent = text;
  alert.className = `banner ${tone === 'good' ? 'banner-good' : tone === 'bad' ? 'banner-bad' : ''}`;
  alert.dataset.tone = tone;
}

function describeJump(skewMs) {
  const minutes = Math.round(Math.abs(skewMs) / 60_000);
  return `${skewMs > 0 ? 'forward' : 'back'} ${minutes} min`;
}

function describeError(error) {
  return error?.code ? `${error.code}: ${error.message}` : String(error?.message ?? error);
}

async function main() {
  feed.render();
  const timeSource = timeSourceFromParams();
  const clock = new ClockFaults(timeSource);
  feed.clock = clock;
  const network = new NetworkFaults({ random: seededRandom(Number(params.get('seed') ?? 7)) });
  // "Offline" lasts across reloads of this tab, so a start without the server can be tried (the
  // closed time then shows as Unconfirmed until the server is back); the box says what holds,
  // whatever the browser restored into it.
  network.offline = sessionStorage.getItem(OFFLINE_KEY) === 'true';
  $('fault-offline').checked = network.offline;
  const storage = new StorageFaults({
    quotaError: () => new ClientError(ClientErrorCode.STORAGE_QUOTA, 'demo: the device storage quota is full'),
  });
  const lifecycle = browserLifecycle(window);

  const telegram = await loadTelegramIfLaunched(window);
  const userId = telegram ? telegram.userId : chosenUserId();
  if (!Number.isSafeInteger(userId)) throw new Error('Telegram gave no usable user id in initData');
  renderIdentity(userId, telegram);

  const core = await loadCore();
  const { store, degraded } = await detectStore(window);
  const latencies = new Sparkline($('latency-chart'), { colour: '#0a84ff' });
  const queueDepths = new Sparkline($('queue-chart'), { colour: '#9a6700' });
  const transport = timedTransport(network.wrap(createFetchTransport({
    endpoint: location.origin,
    auth: telegram ? telegram.authorization : devAuth(),
  })), (ms) => {
    latencies.push(ms);
    $('latency-last').textContent = `last ${ms} ms`;
  });

  const manager = await createEarningsManager({
    storage: storage.wrap(store),
    transport,
    clock,
    lifecycle,
    telegram,
    core,
    seed: Number(params.get('seed') ?? 7) >>> 0,
  });
  for (const { kind, reason } of degraded) feed.add(`Storage ${kind} unavailable (${reason}); using ${store.kind}`, 'warn');
  if (!store.durable) showAlert('No durable storage in this browser: earnings live in memory until synced', 'bad');

  const view = { userId, manager, lastSyncAt: null, waiting: null };
  wireEvents(view, core, network, storage, clock);
  await manager.initializeUser(userId);
  view.initialized = true;
  manager.subscribe(userId, (state) => renderState(view, state));
  renderState(view, manager.state(userId));

  wireControls(view, { network, storage, clock, lifecycle });
  wireAdmin();
  const second = wireSecondDevice(view, { core, timeSource, telegram, lifecycle });

  // Clocks, countdowns and charts move once a second whatever the balance does.
  setInterval(() => {
    renderSyncDetails(view, clock);
    sampleQueue(view, queueDepths);
    renderAudit(view);
  }, 1000);
  renderSyncDetails(view, clock);
  renderAudit(view);

  window.demo = {
    userId,
    manager,
    clock: timeSource,
    faults: { network, storage, clock },
    state: () => manager.state(userId),
    // The last state the page rendered (what the subscriber delivered): tests wait on this, not on
    // state(), so they see what the user sees.
    shown: () => view.state,
    // The other device of the user holds the mining lease and this one waits: { clientId, until } or null.
    waiting: () => view.waiting,
    syncNow: () => manager.syncToDatabase(userId, true),
    settled: () => manager.settled(),
    // The second device of the same user (null until opened): the same verbs on its manager.
    second: null,
  };
  second.expose();
  if (localStorage.getItem(SECOND_DEVICE_KEY) === 'open') await second.open();
  document.body.dataset.ready = 'true';
}

function renderIdentity(userId, telegram) {
  const select = $('user-select');
  if (telegram) {
    select.hidden = true;
    document.querySelector('label[for="user-select"]').hidden = true;
    const badge = $('telegram-user');
    badge.hidden = false;
    badge.textContent = `Telegram user ${userId}`;
    return;
  }
  select.replaceChildren(...DEMO_USERS.map(({ id, name }) => new Option(`${name} (${id})`, String(id), false, id === userId)));
  select.addEventListener('change', () => {
    localStorage.setItem('demo:user', select.value);
    const next = new URLSearchParams(location.search);
    next.set('user', select.value);
    feed.add(`Switched user to ${select.value}: their earnings load from their own local record`);
    location.search = next.toString();
  });
}

// Measures each exchange as the user experiences it (fault latency included).
function timedTransport(transport, record) {
  return {
    async sync(request, options) {
      const started = performance.now();
      const reply = await transport.sync(request, options);
      record(Math.round(performance.now() - started));
      return reply;
    },
    fetchState: (clientId, options) => transport.fetchState(clientId, options),
  };
}

// The tab running the user's engine; followers mirror it.
function isLeader(view) {
  return view.manager.isLeader(view.userId);
}

function sumCredited(core, results, field) {
  return results.reduce((total, result) => (result[field] ? core.addAmounts(total, result[field]) : total), '0');
}

function wireEvents(view, core, network, storage, clock) {
  const { manager } = view;
  network.onFault(({ kind }) => {
    if (kind === 'response-dropped') {
      feed.add('Response lost AFTER the server committed: the client does not know, keeps the ops and will resend them with the same ids', 'warn');
    }
  });
  let quotaAnnounced = false;
  let roomAnnounced = false;
  storage.onFault(({ kind, key, bytes, whileFull }) => {
    if (kind === 'quota-filled') {
      quotaAnnounced = false;
      roomAnnounced = false;
    }
    if (kind === 'stored-while-full' && quotaAnnounced && !roomAnnounced && key === recordKey(view.userId)) {
      roomAnnounced = true;
      feed.add('Record of the active user stored again in the freed room: nothing unsynced was evicted', 'good');
    }
    if (kind === 'quota-exceeded' && !quotaAnnounced) {
      quotaAnnounced = true;
      feed.add('Write refused: QuotaExceededError (device storage full)', 'bad');
    }
    if (kind === 'deleted' && whileFull) {
      feed.add(`Client evicted ${key} (${bytes} bytes, fully synced, not the active user) to make room`, 'warn');
    }
  });
  clock.onJump(({ jumpedMs }) => {
    feed.add(`Device clock moved ${jumpedMs > 0 ? 'forward' : 'back'} ${Math.abs(jumpedMs / HOUR_MS)} h`, 'warn');
  });

  // Leading from the start is not news; leading later means the leader tab went away.
  manager.on('leader', (event) => {
    if (event.userId !== view.userId) return;
    if (event.isLeader && view.initialized) feed.add('The leader tab went away: this tab took over (engine, storage, sync)', 'good');
    queueMicrotask(() => renderSyncDetails(view, clock));
  });

  manager.on('sync', (outcome) => {
    // Sync details change with the outcome, not with the clock: redraw them now.
    queueMicrotask(() => {
      renderSyncDetails(view, clock);
      renderAudit(view);
    });
    if (outcome.status === 'synced') {
      view.lastSyncAt = clock.wall();
      const results = outcome.results ?? [];
      if (results.length === 0) return;
      const byStatus = (status) => results.filter((result) => result.status === status);
      const applied = byStatus('applied');
      const duplicates = byStatus('duplicate');
      if (applied.length > 0) {
        feed.add(`Synced ${applied.length} op(s): server credited ${formatTon(sumCredited(core, applied, 'credited'))} TON`, 'good');
      }
      if (duplicates.length > 0) {
        feed.add(`Server recognised ${duplicates.length} resent op(s) as duplicates: credited once, not twice`, 'good');
      }
      const review = [...applied, ...byStatus('review')];
      const reviewed = sumCredited(core, review, 'review');
      if (!isZeroAmount(reviewed)) feed.add(`${formatTon(reviewed)} TON queued for manual review by the server`, 'warn');
      for (const result of byStatus('gap')) {
        feed.add(`Server expects seq ${result.expectedSeq}: resending in order`, 'warn');
      }
    } else if (outcome.status === 'failed') {
      const reason = outcome.error?.message ?? outcome.error?.code ?? 'unknown';
      feed.add(`Sync failed: ${reason}. Earnings stay queued locally; retry ${formatDuration(outcome.retryInMs)}`, 'bad');
    }
  });
  manager.on('corruption', (event) => {
    const text = event.recovered
      ? `Corruption detected (${event.code}): bad record quarantined, state recovered from server`
      : `Corruption detected (${event.code}): bad record quarantined; server recovery will be retried`;
    feed.add(text, event.recovered ? 'good' : 'bad');
    showAlert(text, event.recovered ? 'good' : 'bad');
  });
  manager.on('quota', (event) => {
    const text = event.freedBytes > 0
      ? `Storage full: freed ${event.freedBytes} bytes of other users' synced records, still not enough; earnings kept in memory and sent to the server`
      : "Storage full and nothing evictable: earnings kept in memory, the server is the safe copy";
    feed.add(text, 'bad');
    showAlert(text, 'bad');
  });
  // One jump is detected twice: by the tick (the wall clock moved unlike the monotonic one) and
  // at the next sync (the device's offset from the server's clock changed by as much). The person
  // watching sees one line per jump: the sync's detection confirms the tick's lines it accounts
  // for, and gets a line of its own only when no tick saw the jump (made while the page was closed).
  let unconfirmedJumps = [];
  manager.on('clock-jump', (event) => {
    if (event.kind === 'server_offset') {
      // offset = server time - device time: a device clock moved forward lowers it.
      const movedMs = event.previousOffsetMs - event.offsetMs;
      const seenMs = unconfirmedJumps.reduce((sum, jump) => sum + jump.skewMs, 0);
      const confirmed = unconfirmedJumps.length > 0 && Math.abs(movedMs - seenMs) <= JUMP_MATCH_MS;
      if (confirmed) {
        for (const { line } of unconfirmedJumps) feed.amend(line, '; the server confirmed it at the next sync');
      } else {
        feed.add(`Clock jump detected by the server: this device's clock moved ${describeJump(movedMs)} since the last sync; the jumped time is not credited`, 'warn');
      }
      unconfirmedJumps = [];
      return;
    }
    const line = feed.add(`Clock jump detected: the device clock moved ${describeJump(event.skewMs)} against real time; the jumped time is not credited`, 'warn');
    unconfirmedJumps.push({ line, skewMs: event.skewMs });
  });
  // Server-side reviews are summed up in the sync message; the local hold has no sync to ride on.
  manager.on('review-needed', (event) => {
    if (event.reason === 'offline_cap') {
      feed.add(`Offline past the ${Math.round(event.offlineCapMs / HOUR_MS)} h cap: earnings beyond it are held for verification, not credited`, 'warn');
    }
  });
  manager.on('conflict', (event) => {
    feed.add(`Conflict with the server (${event.kind ?? event.type ?? 'state'}): server wins, local values kept in the conflict log`, 'warn');
  });
  manager.on('storage-degraded', (event) => {
    feed.add(`Storage ${event.store} failing (${describeError(event.error ?? {})}): earnings kept in memory and synced`, 'bad');
  });
  manager.on('error', (event) => {
    feed.add(`Error in ${event.source}: ${describeError(event.error)}`, 'bad');
  });
  manager.on('unreachable', (event) => {
    feed.add(`Sync server unreachable at ${event.endpoint ?? 'its endpoint'} (${event.httpStatus ? `HTTP ${event.httpStatus}` : 'no answer'}): earnings stay on this device and are retried`, 'bad');
  });
  manager.on('unauthorized', (event) => {
    feed.add(`The sync server refused this user's identity (${event.code ?? `HTTP ${event.httpStatus}`}): nothing is credited until it is accepted; earnings stay queued`, 'bad');
  });
  manager.on('refused', (event) => {
    feed.add(`The sync server refused the request for good (${event.code}: ${event.message})`, 'bad');
  });
  manager.on('rejected', (event) => {
    if (event.code === 'COUNTED_ON_ANOTHER_DEVICE') {
      feed.add(`${formatTon(event.amount)} TON counted on another device: that time was already paid there`, 'warn');
      return;
    }
    feed.add(`${formatTon(event.amount)} TON refused by the server (${event.code}): ${event.reason ?? ''}`, 'bad');
  });
  manager.on('mining-elsewhere', (event) => {
    view.waiting = { clientId: event.clientId, until: event.until };
    queueMicrotask(() => renderState(view, manager.state(view.userId)));
    const until = new Date(event.until).toLocaleTimeString();
    feed.add(`Mining on your other device (${event.clientId}): this one paused, it takes over if that stops (lease until ${until}) or when you start mining here`, 'warn');
  });
  manager.on('mining-resumed', () => {
    view.waiting = null;
    feed.add('Mining here again: the other device stopped', 'good');
  });
  manager.on('catch-up', (event) => {
    const refused = event.refusedMs > 0 ? `; ${formatSpan(event.refusedMs)} more that the device clock claimed refused` : '';
    feed.add(`The server's clock judged the time the app was closed: ${formatSpan(event.confirmedMs)} counted${refused}`, event.refusedMs > 0 ? 'warn' : 'good');
  });
  manager.on('storage-lost', (event) => {
    const text = event.recovered
      ? 'The local record vanished while this device still knew the user: rebuilt from the server'
      : 'The local record vanished while this device still knew the user: the server will be asked again';
    feed.add(text, 'warn');
    showAlert(text, event.recovered ? 'good' : 'bad');
  });
  // The server's row came after a corruption or storage-lost alert that said it had not.
  manager.on('recovered', (event) => {
    if (!event.after) return;
    const text = `The server answered: the ${event.after === 'corruption' ? 'corrupted' : 'vanished'} record is rebuilt from it (${formatTon(event.total)} TON synced)`;
    feed.add(text, 'good');
    showAlert(text, 'good');
  });
}

// What the pill says: the manager never says synced before the server answered this session.
const STATUS_LABELS = {
  connecting: 'connecting…',
  unreachable: 'server unreachable',
  unauthorized: 'not authorized',
  refused: 'refused by server',
};

function renderState(view, state) {
  if (!state) return;
  view.state = state;
  $('balance').textContent = formatTon(state.currentEarnings);
  $('rate').textContent = formatTon(state.baseEarningRate);
  $('synced-total').textContent = `${formatTon(state.syncedTotal)} TON`;
  $('unconfirmed').textContent = `${formatTon(state.unconfirmed ?? '0')} TON`;
  $('held').textContent = `${formatTon(state.heldForVerification)} TON`;
  $('under-review').textContent = `${formatTon(state.underReview)} TON`;
  $('rejected-total').textContent = `${formatTon(state.rejectedTotal ?? '0')} TON`;
  const status = $('sync-status');
  status.textContent = STATUS_LABELS[state.syncStatus] ?? state.syncStatus;
  status.dataset.status = state.syncStatus;
  const toggle = $('mining-toggle');
  toggle.disabled = false;
  renderMining(state, view.waiting, $('mining-status'), toggle);
}

// What a device's card says about its mining: mining here, waiting while the user's other device
// mines (the server's mining lease: `waiting`, from the mining-elsewhere event until
// mining-resumed or the user's own start or stop), or not mining; and what its button does.
function renderMining(state, waiting, line, toggle) {
  const elsewhere = waiting !== null && waiting !== undefined && !state.isActive;
  if (elsewhere) {
    line.textContent = 'Mining on your other device: paused here, showing the balance the server counts. ' +
      'It mines here again when that device stops, or when you press the button.';
    line.dataset.tone = 'warn';
  } else {
    line.textContent = state.isActive ? 'Mining on this device' : 'Not mining';
    line.dataset.tone = state.isActive ? 'good' : '';
  }
  toggle.setAttribute('aria-pressed', String(state.isActive));
  toggle.textContent = state.isActive ? 'Stop mining' : elsewhere ? 'Mine on this device instead' : 'Start mining';
}

// The same user's second device, in this page: a manager of its own with its own store (another
// IndexedDB database, so another record and client id, as a phone has), its own leader among the
// tabs (its lock and channel names apart from the first device's, so a second tab of this page
// follows each device's leader instead of making this device a follower of the first), its own
// connection to the same server, and the page's time source without the first device's clock
// faults. Only the package's public API, as any app.
function wireSecondDevice(view, { core, timeSource, telegram, lifecycle }) {
  const { userId } = view;
  const device = { manager: null, state: null, opening: null, waiting: null };
  const expose = () => {
    window.demo.second = device.manager && {
      manager: device.manager,
      state: () => device.manager.state(userId),
      shown: () => device.state,
      waiting: () => device.waiting,
      syncNow: () => device.manager.syncToDatabase(userId, true),
      settled: () => device.manager.settled(),
    };
  };
  const say = (text, tone) => feed.add(`Second device: ${text}`, tone);

  async function open() {
    const store = await IndexedDbStore.open(indexedDB, { dbName: 'ton-earnings-guard-second-device' })
      .catch(() => new MemoryStore());
    const apart = (name) => `second-device:${name}`;
    const tabs = navigator.locks && typeof BroadcastChannel === 'function'
      ? {
        locks: { request: (name, ...rest) => navigator.locks.request(apart(name), ...rest) },
        openChannel: (name) => new BroadcastChannel(apart(name)),
      }
      : null;
    const manager = await createEarningsManager({
      storage: store,
      transport: createFetchTransport({ endpoint: location.origin, auth: telegram ? telegram.authorization : devAuth() }),
      clock: timeSource,
      lifecycle,
      telegram,
      tabs,
      core,
      seed: (Number(params.get('seed') ?? 7) + 1) >>> 0,
    });
    manager.on('mining-elsewhere', (event) => {
      device.waiting = { clientId: event.clientId, until: event.until };
      say('paused: your user mines on the first device', 'warn');
      queueMicrotask(() => render(manager.state(userId)));
    });
    manager.on('mining-resumed', () => {
      device.waiting = null;
      say('mining again: the first device stopped', 'good');
    });
    manager.on('rejected', (event) => say(`${formatTon(event.amount)} TON refused (${event.code})`, 'warn'));
    manager.on('conflict', (event) => say(`conflict with the server (${event.kind ?? 'state'})`, 'warn'));
    await manager.initializeUser(userId);
    device.manager = manager;
    manager.subscribe(userId, (state) => render(state));
    render(manager.state(userId));
    $('second-open').hidden = true;
    $('second-body').hidden = false;
    localStorage.setItem(SECOND_DEVICE_KEY, 'open');
    expose();
  }

  function render(state) {
    if (!state) return;
    device.state = state;
    $('second-balance').textContent = formatTon(state.currentEarnings);
    renderMining(state, device.waiting, $('second-status'), $('second-toggle'));
  }

  $('second-open').addEventListener('click', async (event) => {
    const button = event.currentTarget;
    button.disabled = true;
    try {
      device.opening ??= open();
      await device.opening;
      say('opened for the same user: its own record and client id, the same server');
    } catch (error) {
      device.opening = null;
      feed.add(`The second device could not start: ${describeError(error)}`, 'bad');
    } finally {
      button.disabled = false;
    }
  });
  $('second-toggle').addEventListener('click', async (event) => {
    const button = event.currentTarget;
    button.disabled = true;
    try {
      const state = device.manager.state(userId);
      const active = !state.isActive;
      const rate = isZeroAmount(state.baseEarningRate) ? '1' : state.baseEarningRate;
      device.waiting = null;
      await device.manager.setMining(userId, { active, rate });
      // Told at once, so the first device hears of it at its next sync.
      await device.manager.syncToDatabase(userId, true);
      say(active
        ? "mining started here: it takes the user's mining lease (a first device that mines pauses at its next sync)"
        : 'mining stopped: the lease is free for the first device');
    } catch (error) {
      feed.add(describeError(error), 'bad');
    } finally {
      button.disabled = false;
    }
  });
  $('second-close').addEventListener('click', async () => {
    localStorage.removeItem(SECOND_DEVICE_KEY);
    await device.manager?.dispose();
    device.manager = null;
    device.opening = null;
    device.state = null;
    device.waiting = null;
    $('second-body').hidden = true;
    $('second-open').hidden = false;
    expose();
    say('closed (its record stays in its own storage)');
  });
  return { open: () => (device.opening ??= open()), expose };
}

function renderSyncDetails(view, clock) {
  const { manager, userId } = view;
  const leader = isLeader(view);
  $('leader').textContent = leader ? 'leader (runs the engine, syncs)' : 'follower (mirrors the leader tab)';
  $('leader').dataset.leader = String(leader);
  // The faults wrap this tab's transport, clock and storage, which only the leader uses; from a
  // follower they would break nothing (the leader keeps syncing and rewrites the record).
  $('faults-follower').hidden = leader;
  for (const control of document.querySelectorAll('#faults input, #faults select, #faults button')) {
    control.disabled = !leader;
  }
  // After "Clock +1 h" this time is the moved device clock's, an hour off the audit log's trusted
  // times: said beside it, so the page never shows two clocks unexplained.
  const moved = clock.wallOffsetMs;
  const deviceClock = moved !== 0 && view.lastSyncAt !== null
    ? ` by this device's clock, ${formatSpan(Math.abs(moved))} ${moved > 0 ? 'ahead' : 'behind'}` : '';
  $('last-sync').textContent = formatAgo(view.lastSyncAt, clock.wall()) + deviceClock;
  const due = leader ? manager.sync.syncDueInMs(userId) : null;
  $('retry-in').textContent = Number.isSafeInteger(due) && due >= 0 ? formatDuration(due) : '-';
}

function sampleQueue(view, chart) {
  if (!isLeader(view)) return;
  const depth = view.manager.recovery.metrics(view.userId)?.counters?.queueDepth ?? 0;
  $('pending-ops').textContent = String(depth);
  $('queue-last').textContent = `now ${depth}`;
  chart.push(depth);
}

const AUDIT_NAMES = {
  clock_jump: 'clock jump (not credited)',
  clock_back: 'clock moved back (not credited)',
};

function renderAudit(view) {
  const body = $('audit-rows');
  if (!isLeader(view)) {
    const row = body.insertRow();
    body.replaceChildren(row);
    const cell = row.insertCell();
    cell.colSpan = 5;
    cell.textContent = 'The leader tab keeps this user\'s audit log.';
    return;
  }
  const entries = view.manager.recovery.audit(view.userId);
  // The stored log remembers the last sync across reloads, before this page load has synced.
  for (const entry of entries) {
    if (entry.operationType === 'sync_applied' && !(view.lastSyncAt >= entry.timestamp)) view.lastSyncAt = entry.timestamp;
  }
  body.replaceChildren(...entries.slice(-50).reverse().map((entry) => {
    const row = document.createElement('tr');
    row.dataset.operation = entry.operationType;
    const cells = [
      entry.timestamp > 0 ? formatClock(entry.timestamp) : '-',
      AUDIT_NAMES[entry.operationType] ?? entry.operationType,
      entry.oldValue === undefined ? '' : formatTon(entry.oldValue),
      entry.newValue === undefined ? '' : formatTon(entry.newValue),
      entry.source,
    ];
    cells.forEach((text, i) => {
      const cell = row.insertCell();
      cell.textContent = text;
      if (i === 2 || i === 3) cell.className = 'num';
    });
    return row;
  }));
}

function wireControls(view, { network, storage, clock, lifecycle }) {
  const { manager, userId } = view;
  const guard = (action) => async (event) => {
    const button = event?.currentTarget;
    if (button) button.disabled = true;
    try {
      await action();
    } catch (error) {
      feed.add(describeError(error), 'bad');
    } finally {
      if (button) button.disabled = false;
    }
  };

  $('mining-toggle').addEventListener('click', guard(async () => {
    const state = manager.state(userId);
    const active = !state.isActive;
    // The rate is the server's for this user (recovered on first open); the demo never makes
    // one up unless the server could not be reached yet.
    const rate = isZeroAmount(state.baseEarningRate) ? '1' : state.baseEarningRate;
    view.waiting = null;
    await manager.setMining(userId, { active, rate });
    feed.add(active ? `Mining started at ${formatTon(manager.state(userId).baseEarningRate)} TON/h` : 'Mining stopped');
  }));

  $('sync-now').disabled = false;
  $('sync-now').addEventListener('click', guard(() => manager.syncToDatabase(userId, true)));

  $('fault-offline').addEventListener('change', (event) => {
    network.offline = event.target.checked;
    sessionStorage.setItem(OFFLINE_KEY, String(network.offline));
    if (network.offline) {
      feed.add('Network off: mining continues locally, syncs fail and back off', 'warn');
    } else {
      feed.add('Network back: the client flushes its queue now');
      lifecycle.emit('online');
    }
  });
  $('fault-drop-requests').addEventListener('change', (event) => {
    network.dropRequestRate = Number(event.target.value);
  });
  $('fault-drop-responses').addEventListener('change', (event) => {
    network.dropResponseRate = Number(event.target.value);
  });
  $('fault-latency').addEventListener('change', (event) => {
    network.latencyMs = Number(event.target.value);
  });

  $('clock-forward').addEventListener('click', () => clock.jump(HOUR_MS));
  $('clock-back').addEventListener('click', () => clock.jump(-HOUR_MS));

  // Corruption is found when a record is read, i.e. on the next start: stop this tab's engine
  // (so it cannot rewrite the record), damage the stored bytes, and start again.
  $('corrupt').addEventListener('click', guard(async () => {
    await manager.dispose();
    const damaged = await storage.corrupt(recordKey(userId));
    feed.add(damaged ? 'Flipped a byte in the stored record; reloading as after a crash' : 'Nothing stored yet to corrupt', 'warn');
    location.reload();
  }));

  const quotaButton = $('fill-quota');
  quotaButton.addEventListener('click', guard(async () => {
    if (storage.full) {
      storage.freeQuota();
      quotaButton.textContent = 'Fill storage quota';
      quotaButton.setAttribute('aria-pressed', 'false');
      feed.add('Storage quota freed: records are stored again');
      $('alert').hidden = true;
      return;
    }
    storage.fillQuota();
    quotaButton.textContent = 'Free storage quota';
    quotaButton.setAttribute('aria-pressed', 'true');
    feed.add('Device storage filled up: the next write will fail', 'warn');
    // A sync stores the record before sending, so the full quota shows at once.
    await manager.syncToDatabase(userId, true);
  }));
}

function wireAdmin() {
  const form = $('admin-form');
  const message = $('admin-message');
  const rows = $('review-rows');
  const token = () => $('admin-token').value.trim();

  async function call(path, init = {}) {
    const response = await fetch(path, { ...init, headers: { Authorization: `Bearer ${token()}`, ...init.headers } });
    const body = await response.json().catch(() => null);
    if (!response.ok) throw new Error(body?.error ? `${body.error.code}: ${body.error.message}` : `HTTP ${response.status}`);
    return body;
  }

  async function load() {
    const { reviews } = await call('/v1/admin/reviews?status=pending');
    message.textContent = reviews.length === 0 ? 'No reviews pending.' : `${reviews.length} pending.`;
    rows.replaceChildren(...reviews.map((review) => {
      const row = document.createElement('tr');
      row.dataset.reviewId = String(review.id);
      for (const [text, numeric] of [
        [String(review.id)], [String(review.userId)], [`${formatTon(review.amount)} TON`, true],
        [review.reason ?? review.code ?? ''], [review.status],
      ]) {
        const cell = row.insertCell();
        cell.textContent = text;
        if (numeric) cell.className = 'num';
      }
      const actions = row.insertCell();
      for (const action of ['approve', 'reject']) {
        const button = document.createElement('button');
        button.type = 'button';
        button.textContent = action === 'approve' ? 'Approve' : 'Reject';
        button.dataset.action = action;
        button.addEventListener('click', async () => {
          try {
            await call(`/v1/admin/users/${review.userId}/reviews/${review.id}/${action}`, { method: 'POST' });
            feed.add(`Review #${review.id} ${action === 'approve' ? 'approved: credited once' : 'rejected: not credited'}`, 'good');
            await load();
          } catch (error) {
            message.textContent = describeError(error);
          }
        });
        actions.append(button);
      }
      return row;
    }));
  }

  form.addEventListener('submit', async (event) => {
    event.preventDefault();
    try {
      await load();
    } catch (error) {
      message.textContent = describeError(error);
    }
  });
}

main().catch((error) => {
  const banner = $('startup-error');
  banner.hidden = false;
  banner.textContent = `The demo could not start: ${describeError(error)}`;
  document.body.dataset.ready = 'failed';
});
