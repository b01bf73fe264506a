// Display formatting over the decimal strings the client hands out. Money stays a string all the
// way to the screen: grouping digits is text work, never a round trip through a JS number.

const AMOUNT_SHAPE = /^(-?)(\d+)(?:\.(\d+))?$/;

// "1234567.50000000" -> "1 234 567.50000000" (thin spaces). Anything that is not an amount string
// is shown as a dash rather than guessed at.
export function formatTon(amount) {
  if (typeof amount !== 'string') return '-';
  const match = AMOUNT_SHAPE.exec(amount);
  if (!match) return '-';
  const [, sign, whole, fraction] = match;
  const grouped = whole.replace(/\B(?=(\d{3})+(?!\d))/g, '\u2009');
  return `${sign}${grouped}${fraction === undefined ? '' : `.${fraction}`}`;
}

export function isZeroAmount(amount) {
  return typeof amount === 'string' && /^-?0*(\.0*)?$/.test(amount);
}

function pad(n) {
  return String(n).padStart(2, '0');
}

export function formatClock(wallMs) {
  if (!Number.isFinite(wallMs)) return '-';
  const date = new Date(wallMs);
  return `${pad(date.getHours())}:${pad(date.getMinutes())}:${pad(date.getSeconds())}`;
}

// "3 s ago", "2 min ago": relative to the demo's clock, which may be a test's manual clock.
export function formatAgo(thenMs, nowMs) {
  if (!Number.isFinite(thenMs) || thenMs <= 0) return 'never';
  const seconds = Math.max(0, Math.round((nowMs - thenMs) / 1000));
  if (seconds < 60) return `${formatClock(thenMs)} (${seconds} s ago)`;
  const minutes = Math.round(seconds / 60);
  if (minutes < 120) return `${formatClock(thenMs)} (${minutes} min ago)`;
  return `${formatClock(thenMs)} (${Math.round(minutes / 60)} h ago)`;
}

// Backoff with full jitter often waits well under a second; those show with one decimal.
// A span of time that passed (not a wait): "45 s", "62 min".
export function formatSpan(ms) {
  const seconds = Math.round(ms / 1000);
  return seconds < 120 ? `${seconds} s` : `${Math.round(seconds / 60)} min`;
}

export function formatDuration(ms) {
  if (!Number.isFinite(ms) || ms < 0) return '-';
  if (ms === 0) return 'now';
  if (ms < 10_000) return `in ${(ms / 1000).toFixed(1)} s`;
  const seconds = Math.ceil(ms / 1000);
  if (seconds < 120) return `in ${seconds} s`;
  return `in ${Math.ceil(seconds / 60)} min`;
}
