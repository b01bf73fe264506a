// Telegram DeviceStorage record store (Bot API 9.0, about 5 MB per bot on the device). Telegram
// clients have been seen wiping a Mini App's localStorage; DeviceStorage lives in the client
// itself. It stores strings and cannot list keys, so records are base64 and an index key lists
// what this package wrote. The record is written before the index, so a torn pair leaves an index
// entry without a record (skipped on list), never a record nobody can find.
import { ClientError, ClientErrorCode } from '../client-errors.js';
import { base64ToBytes, bytesToBase64 } from './encoding.js';

const INDEX_KEY = 'teg:index';
// DeviceStorage answers '' for a missing key; the mark tells an empty record from no record.
const VALUE_MARK = 'b:';

function call(deviceStorage, method, ...args) {
  return new Promise((resolve, reject) => {
    try {
      deviceStorage[method](...args, (error, value) => {
        if (error) {
          const quota = /quota|limit|too large/i.test(String(error));
          reject(new ClientError(quota ? ClientErrorCode.STORAGE_QUOTA : ClientErrorCode.STORAGE_UNAVAILABLE,
            `Telegram DeviceStorage ${method}: ${error}`));
        } else {
          resolve(value);
        }
      });
    } catch (error) {
      reject(new ClientError(ClientErrorCode.STORAGE_UNAVAILABLE, `Telegram DeviceStorage ${method}: ${error?.message ?? error}`,
        { cause: error }));
    }
  });
}

export class TelegramDeviceStore {
  // REQUIRES: `deviceStorage` is Telegram.WebApp.DeviceStorage (callback style API).
  constructor(deviceStorage) {
    this.kind = 'telegram-device';
    this.durable = true;
    this.deviceStorage = deviceStorage;
  }

  async readIndex() {
    const text = await call(this.deviceStorage, 'getItem', INDEX_KEY);
    if (!text) return {};
    try {
      const index = JSON.parse(text);
      return index && typeof index === 'object' && !Array.isArray(index) ? index : {};
    } catch {
      return {};
    }
  }

  async writeIndex(index) {
    await call(this.deviceStorage, 'setItem', INDEX_KEY, JSON.stringify(index));
  }

  async get(key) {
    const text = await call(this.deviceStorage, 'getItem', key);
    return typeof text === 'string' && text.startsWith(VALUE_MARK) ? base64ToBytes(text.slice(VALUE_MARK.length)) : null;
  }

  async put(key, bytes) {
    const text = VALUE_MARK + bytesToBase64(bytes);
    await call(this.deviceStorage, 'setItem', key, text);
    const index = await this.readIndex();
    if (index[key] !== text.length) {
      index[key] = text.length;
      await this.writeIndex(index);
    }
  }

  async delete(key) {
    await call(this.deviceStorage, 'removeItem', key);
    const index = await this.readIndex();
    if (key in index) {
      delete index[key];
      await this.writeIndex(index);
    }
  }

  async list(prefix) {
    const index = await this.readIndex();
    return Object.keys(index).filter((key) => key.startsWith(prefix)).sort()
      .map((key) => ({ key, bytes: index[key] }));
  }

  close() {}
}
