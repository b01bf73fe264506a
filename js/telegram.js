// Reads what a Telegram Mini App needs from Telegram.WebApp. The user id is taken from the raw,
// signed initData (the same bytes the server validates), never from initDataUnsafe, so the local
// record the app opens belongs to the user the server will credit. The id only selects local
// storage; every decision about money is the server's, made on the validated initData.

// Returns null outside Telegram or when the client gave no initData (opened as a plain web page).
export function readTelegram(env = globalThis) {
  const webApp = env.Telegram?.WebApp;
  const initData = typeof webApp?.initData === 'string' ? webApp.initData : '';
  if (!webApp || initData === '') return null;
  return {
    webApp,
    initData,
    userId: userIdFromInitData(initData),
    deviceStorage: typeof webApp.DeviceStorage?.setItem === 'function' ? webApp.DeviceStorage : null,
    authorization: () => `tma ${initData}`,
    // Telegram's `deactivated` fires when the Mini App is minimized or closed; it is the last
    // moment to flush earnings on clients that never fire pagehide.
    onLifecycle(type, listener) {
      if (typeof webApp.onEvent !== 'function') return () => {};
      webApp.onEvent(type, listener);
      return () => webApp.offEvent?.(type, listener);
    },
  };
}

// The `user` field of initData is URL-encoded JSON. A user id that is not a positive safe integer
// yields null rather than a rounded number that would select someone else's record.
export function userIdFromInitData(initData) {
  let user;
  try {
    const text = new URLSearchParams(initData).get('user');
    if (text === null) return null;
    // Ids are read from the JSON text directly: JSON.parse would round ids beyond 2^53 silently.
    const match = /"id"\s*:\s*(\d{1,20})\s*[,}]/.exec(text);
    user = match ? match[1] : null;
  } catch {
    return null;
  }
  if (user === null) return null;
  const id = Number(user);
  return Number.isSafeInteger(id) && id > 0 && String(id) === user ? id : null;
}
