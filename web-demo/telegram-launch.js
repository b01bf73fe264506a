// Inside Telegram the page is opened with launch parameters in the URL hash (#tgWebAppData=...).
// Only then is Telegram's own script loaded: outside Telegram the demo makes no request to a third
// party and uses its development identity instead.
import { readTelegram } from 'ton-earnings-guard';

const TELEGRAM_SCRIPT = 'https://telegram.org/js/telegram-web-app.js';

export function launchedFromTelegram(win) {
  return new URLSearchParams(win.location.hash.slice(1)).has('tgWebAppData');
}

function loadScript(doc, src) {
  return new Promise((resolve, reject) => {
    const script = doc.createElement('script');
    script.src = src;
    script.onload = resolve;
    script.onerror = () => reject(new Error(`could not load ${src}`));
    doc.head.append(script);
  });
}

// Resolves to readTelegram()'s answer, or null outside Telegram. Telegram's script also sets the
// --tg-theme-* CSS variables the stylesheet falls back from, so the page takes the chat's colours.
export async function loadTelegramIfLaunched(win) {
  if (!launchedFromTelegram(win)) return null;
  await loadScript(win.document, TELEGRAM_SCRIPT);
  const telegram = readTelegram(win);
  if (!telegram) return null;
  telegram.webApp.ready();
  telegram.webApp.expand();
  return telegram;
}
