// One key per user keeps users apart on a shared device (Property 7): a user's record, its
// quarantined copies and its client id never share a key with another user, so cleaning or
// quarantining one user cannot touch another's bytes.
export const RECORD_PREFIX = 'teg:record:';
export const QUARANTINE_PREFIX = 'teg:quarantine:';
export const CLIENT_PREFIX = 'teg:client:';
// A tap's journal entries (DESIGN.md "The tap journal"), one key each after the user's record,
// numbered from the checkpoint they follow and padded so that key order is journal order. A
// version without the journal never reads, lists or deletes these keys.
export const JOURNAL_PREFIX = 'teg:journal:';

export const recordKey = (userId) => `${RECORD_PREFIX}${userId}`;
export const clientKey = (userId) => `${CLIENT_PREFIX}${userId}`;
export const journalPrefix = (userId) => `${JOURNAL_PREFIX}${userId}:`;
export const journalKey = (userId, seq) => `${journalPrefix(userId)}${String(seq).padStart(6, '0')}`;
// The time suffix keeps every corrupt copy: a second corruption must not overwrite the first
// piece of evidence.
export const quarantineKey = (userId, wallMs) => `${QUARANTINE_PREFIX}${userId}:${wallMs}`;

export function userIdOfRecordKey(key) {
  if (!key.startsWith(RECORD_PREFIX)) return null;
  const id = Number(key.slice(RECORD_PREFIX.length));
  return Number.isSafeInteger(id) && id > 0 ? id : null;
}

export function userIdOfJournalKey(key) {
  if (!key.startsWith(JOURNAL_PREFIX)) return null;
  const id = Number(key.slice(JOURNAL_PREFIX.length, key.indexOf(':', JOURNAL_PREFIX.length)));
  return Number.isSafeInteger(id) && id > 0 ? id : null;
}
