// The tap journal (DESIGN.md "The tap journal"): what makes an earning durable without storing
// the whole record. The engine logs every call that changes it between two stored writes as
// long as each is a replayable call (a tick or add_earnings that succeeded) with the values it
// was given (times, the amount) and whether it opened a page session; a write stores those calls
// as one journal entry. Any other change (a refused call, a sync, a rate, a recovery) makes the
// next write a checkpoint. Restoring the last stored record (the checkpoint) and replaying its entries in
// order reproduces the engine exactly: the engine is deterministic given its inputs, and the
// clock and randomness are inputs, so nothing is drawn anew on replay.
//
// An entry names the checkpoint it follows (the record's journal generation) and its place after
// it (seq 0, 1, ...), and carries fingerprints of the engine before and after it, so an entry
// from another checkpoint, a gap, a duplicate or a replay that would not end where the tab was
// is refused before anything of it is applied. It is stored in the record's envelope (codec.h:
// CRC-32 over version, length and payload; the owner's id under kRecordUserKey).
#pragma once

#include <algorithm>
#include <array>
#include <cstddef>
#include <cstdint>
#include <string>
#include <vector>

#include "amount.h"
#include "codec.h"
#include "status.h"

namespace earnings {

// A checkpoint is due after this many entries: restore replays at most this many.
constexpr std::int64_t kJournalEntriesPerCheckpoint = 64;
// Calls one entry may carry; a longer run between writes needs a checkpoint instead.
constexpr std::size_t kMaxJournalCalls = 256;

enum class JournalCallKind { kTick = 0, kEarning = 1 };

struct JournalCall {
  JournalCallKind kind = JournalCallKind::kTick;
  std::int64_t wall = 0;
  std::int64_t mono = 0;
  bool fresh = false;  // the engine's first observation of a page session (clock_guard.h)
  Units amount = 0;    // kEarning: what add_earnings added
};

// Calls in order, at most kMaxJournalCalls: a fixed array rather than a vector, whose growth and
// erase code would cost the client module about 0.2 KB gzip for a log this small.
struct JournalCalls {
  std::array<JournalCall, kMaxJournalCalls> items;
  std::size_t size = 0;

  // False when full.
  bool push(const JournalCall& call) {
    if (size == items.size()) return false;
    items[size++] = call;
    return true;
  }
  // Forgets the oldest `count` calls. REQUIRES: count <= size.
  void drop_front(std::size_t count) {
    std::copy(items.begin() + count, items.begin() + size, items.begin());
    size -= count;
  }
};

struct JournalEntry {
  std::int64_t user_id = 0;
  std::int64_t generation = 0;  // the checkpoint's; >= 1
  std::int64_t seq = 0;         // [0, kJournalEntriesPerCheckpoint)
  std::uint32_t before = 0;     // the engine's fingerprint after the write before this one
  std::uint32_t after = 0;      // and after this entry's calls
  JournalCalls calls;
};

// `entry`'s calls are `calls` (the engine's log, not copied into the entry to write it).
Result<Bytes> encode_journal_entry(const JournalEntry& entry, const JournalCalls& calls);
// kRecordCorrupt (envelope, checksum, any member missing, mistyped or out of range) or
// kRecordUserMismatch (another user's entry); never a partly read entry.
Result<JournalEntry> decode_journal_entry(const Bytes& bytes, std::int64_t user_id);

}  // namespace earnings
