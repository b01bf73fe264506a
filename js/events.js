// Typed events the manager raises so an app can react: `sync`, `conflict`, `corruption` (with
// recovery options), `review-needed`, `rejected` (an op the server refused for good, with its
// reason), `recovered` (the state was rebuilt from the server's row; `after: 'storage-lost'` or
// `'corruption'` when that event said `recovered: false` and the row came later),
// `storage-degraded`, `quota`, `clock-jump`, `leader` (this tab started or stopped running a
// user's engine), `leader-refused` (no Web Locks and another tab leads: this one follows it),
// `rate-changed` (a sync answer brought the server's rate for the user), `error`,
// `unreachable` / `unauthorized` / `refused` (this page session's contact
// with the sync server turned so; also the state's syncStatus), `storage-lost` (the record
// vanished while this device's client id was still stored: rebuilt from the server, at once or
// later, told by `recovered`),
// `mining-elsewhere` / `mining-resumed` (another device of the user holds the mining lease, so
// this one stopped accruing; this one holds it again), `catch-up` (the server's time judged the
// time the app was closed: `confirmedMs` counted, `refusedMs` of the device clock's claim
// refused), `journal-quarantined` (tap journal entries after the user's record could not be
// replayed: copied to quarantine with their earnings, not counted, told here; DESIGN.md "The tap
// journal").
// A listener that throws is reported on `error` and never breaks the manager or other listeners.
export const EVENT_TYPES = Object.freeze([
  'sync', 'conflict', 'corruption', 'review-needed', 'rejected', 'recovered', 'storage-degraded', 'quota',
  'clock-jump', 'leader', 'leader-refused', 'rate-changed', 'error', 'unreachable', 'unauthorized', 'refused',
  'storage-lost', 'mining-elsewhere', 'mining-resumed', 'catch-up', 'journal-quarantined',
]);

// `types`: the core's table (core.contract.eventTypes.client) when a core is at hand; EVENT_TYPES
// is the same list for apps that need it before loading the core (tests/js/core/contract.test.js).
export class EarningsEvents {
  constructor(types = EVENT_TYPES) {
    this.listeners = new Map(types.map((type) => [type, new Set()]));
  }

  on(type, listener) {
    const set = this.listeners.get(type);
    if (!set) throw new TypeError(`unknown event type "${type}"; known: ${[...this.listeners.keys()].join(', ')}`);
    if (typeof listener !== 'function') throw new TypeError('listener must be a function');
    set.add(listener);
    return () => set.delete(listener);
  }

  emit(type, detail) {
    for (const listener of [...this.listeners.get(type)]) {
      try {
        listener(detail);
      } catch (error) {
        if (type !== 'error') this.emit('error', { source: 'listener', event: type, error });
      }
    }
  }

  clear() {
    for (const set of this.listeners.values()) set.clear();
  }
}
