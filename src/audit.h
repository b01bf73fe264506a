// Audit trail of every change to a user's earnings (seed `EarningsAuditLog`, Property 19).
// An AuditLog is bounded: once `capacity` entries are held, appending drops the oldest entry and
// counts it in `dropped()`, so memory and stored bytes stay bounded on a device that mines for
// months; the count of dropped entries keeps the trail honest about its own gaps. Ids are
// assigned by the log, strictly increasing and never reused, even across drops and trims.
// Entries are plain values; serialisation validates every field and never half-loads.
#pragma once

#include <cstddef>
#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "amount.h"
#include "document.h"
#include "status.h"

namespace earnings {

enum class AuditSource { kLocal, kSync, kReconciliation };

// "local" | "sync" | "reconciliation" (seed names; part of the stored and exported format).
const char* to_string(AuditSource source);
Result<AuditSource> parse_audit_source(const std::string& text);

struct AuditEntry {
  std::int64_t id = 0;  // assigned by AuditLog::append
  std::int64_t user_id = 0;
  std::string operation_type;  // e.g. "accrual", "sync_applied", "clock_jump", "credit"
  std::optional<Units> old_value;
  std::optional<Units> new_value;
  std::int64_t timestamp = 0;  // wall ms
  AuditSource source = AuditSource::kLocal;
  Bytes metadata = Fields().bytes();  // always a map
};

bool operator==(const AuditEntry& a, const AuditEntry& b);
inline bool operator!=(const AuditEntry& a, const AuditEntry& b) { return !(a == b); }

// {"id","userId","operationType","oldValue"?,"newValue"?,"timestamp","source","metadata"}; the
// values are decimal strings with 8 decimals, absent when the entry has none.
Bytes audit_entry_to_document(const AuditEntry& entry);
// Validates types, ranges (ids and times non-negative safe integers, user id positive safe
// integer, amounts per parse_amount), a non-empty operation type of at most 64 chars and a map
// metadata. Failure: kRecordCorrupt naming the field.
Result<AuditEntry> audit_entry_from_document(const Node& value);

constexpr std::size_t kDefaultAuditCapacity = 500;
constexpr std::size_t kMaxAuditCapacity = 100000;

class AuditLog {
 public:
  // Capacity is clamped into [1, kMaxAuditCapacity].
  explicit AuditLog(std::size_t capacity = kDefaultAuditCapacity);

  // Stores `entry` with the next id (the given id is ignored) and returns the stored entry.
  // Drops the oldest entry first when full.
  const AuditEntry& append(AuditEntry entry);

  // The newest entry, for coalescing consecutive accrual ticks into one record in place; null
  // when empty. The id must not be changed through this pointer. Taking it forgets the entry's
  // stored form, which to_document writes afresh.
  AuditEntry* last();
  const AuditEntry* last() const;

  // Keeps only the newest `keep` entries (storage cleanup); returns how many were removed. The
  // removed ones are counted in dropped().
  std::size_t trim_to(std::size_t keep);

  // The k-th oldest entry. REQUIRES: k < size().
  const AuditEntry& entry(std::size_t k) const { return slot(k).entry; }
  // Every entry, oldest first (a copy).
  std::vector<AuditEntry> entries() const;
  std::size_t size() const { return entries_.size(); }
  std::size_t capacity() const { return capacity_; }
  std::uint64_t dropped() const { return dropped_; }
  std::int64_t next_id() const { return next_id_; }

  // The entries, oldest first, as one array. Each entry is written once and its form kept: a
  // record is stored after every change, and a full log is most of it.
  Bytes entries_document() const;
  // {"capacity","nextId","dropped","entries":[...]}
  Bytes to_document() const;
  // Validates everything (see audit_entry_from_document; ids strictly increasing and below
  // nextId, size within capacity); kRecordCorrupt on any failure.
  static Result<AuditLog> from_document(const Node& value);

 private:
  // An entry and its document form (audit_entry_to_document), empty until to_document writes
  // it. The form is wrong only if the entry changes without it being emptied: the entry is
  // replaced only by append and changed in place only through last(), and both empty it.
  struct Slot {
    AuditEntry entry;
    mutable Bytes document;
  };
  const Slot& slot(std::size_t k) const { return entries_[(first_ + k) % entries_.size()]; }

  std::size_t capacity_;
  // A ring: the oldest entry is entries_[first_]. A full log overwrites its oldest entry in
  // place, so an append costs the same at any capacity (auditCapacity may be 100000): a vector
  // that erased its front would move every other entry, and a deque costs about 2 KB gzip of the
  // client module.
  std::vector<Slot> entries_;
  std::size_t first_ = 0;
  std::uint64_t dropped_ = 0;
  std::int64_t next_id_ = 1;
};

}  // namespace earnings
