// Records are bytes; string-only media (localStorage, Telegram DeviceStorage) keep them as base64.
// btoa/atob work on "binary strings", so bytes go through chunks of String.fromCharCode to stay
// clear of argument-count limits on large records.
const CHUNK = 0x8000;

export function bytesToBase64(bytes) {
  let binary = '';
  for (let i = 0; i < bytes.length; i += CHUNK) {
    binary += String.fromCharCode.apply(null, bytes.subarray(i, i + CHUNK));
  }
  return btoa(binary);
}

// A value that is not valid base64 yields bytes the core's CRC check rejects, never a throw here:
// damaged text is a corrupt record, handled by quarantine like any other corruption.
export function base64ToBytes(text) {
  let binary;
  try {
    binary = atob(text);
  } catch {
    return new TextEncoder().encode(text);
  }
  const bytes = new Uint8Array(binary.length);
  for (let i = 0; i < binary.length; i += 1) bytes[i] = binary.charCodeAt(i);
  return bytes;
}
