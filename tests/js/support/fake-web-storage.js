// Web Storage (localStorage) and Telegram DeviceStorage doubles with a character quota, so quota
// failures are reproducible in Node.
export class FakeLocalStorage {
  constructor({ quotaChars = Infinity } = {}) {
    this.items = new Map();
    this.quotaChars = quotaChars;
  }

  get length() {
    return this.items.size;
  }

  key(index) {
    return [...this.items.keys()][index] ?? null;
  }

  getItem(key) {
    return this.items.has(key) ? this.items.get(key) : null;
  }

  used(except) {
    let total = 0;
    for (const [key, value] of this.items) if (key !== except) total += key.length + value.length;
    return total;
  }

  setItem(key, value) {
    const text = String(value);
    if (this.used(key) + key.length + text.length > this.quotaChars) {
      const error = new Error('The quota has been exceeded.');
      error.name = 'QuotaExceededError';
      error.code = 22;
      throw error;
    }
    this.items.set(key, text);
  }

  removeItem(key) {
    this.items.delete(key);
  }
}

export class FakeDeviceStorage {
  constructor({ quotaChars = Infinity } = {}) {
    this.local = new FakeLocalStorage({ quotaChars });
  }

  setItem(key, value, callback) {
    queueMicrotask(() => {
      try {
        this.local.setItem(key, value);
        callback?.(null, true);
      } catch {
        callback?.('QUOTA_EXCEEDED', false);
      }
    });
  }

  getItem(key, callback) {
    queueMicrotask(() => callback(null, this.local.getItem(key) ?? ''));
  }

  removeItem(key, callback) {
    queueMicrotask(() => {
      this.local.removeItem(key);
      callback?.(null, true);
    });
  }
}
