// Which stored records to drop when a device's storage fills up (Properties 9, 10, 23). Pure
// planning: the caller lists what it stores, this answers what to delete or shrink, and the
// caller does it.
//
// Nothing that is not yet on the server is ever evicted, for any user, and the active user's
// record is never evicted at all. Cleanup starts when usage passes the high-water mark (80% of
// the budget by default) and aims to bring usage back under it, in this order:
//   1. quarantined copies (unreadable records kept for diagnosis), least recently used first;
//   2. other users' fully synced records, least recently used first;
//   3. audit entries of other users' remaining records, oldest entries first (whole audit);
//   4. the active user's audit entries, oldest first, down to a floor.
// Independently of the budget (Property 23), records of other users that are fully synced and
// have not been accessed for longer than the expiry, and quarantined copies equally old, are
// evicted. The plan says whether usage ends within the budget; when it does not, what is left
// is data that must not be dropped, and the app should tell the user.
//
// What the caller lists is turned into StoredRecords here too (stored_record_from_entry), so the
// client's cleanup (js/storage-cleanup.js) only reads its store and carries the plan out: a key
// says whose record or quarantined copy it is and, for a copy, when it was quarantined; a record
// is fully synced when it was read and is neither mining (time not yet accrued is owed) nor owes
// anything pending or held and has no tap journal entries after it (they hold earnings the record
// does not; their bytes count as the record's, and only the record's checkpoint removes them);
// its last access is its state's lastUpdate; it is the active user's
// when its user is `activeUserId` or a session on the device holds it (`live`); its audit's share
// of the stored bytes is the share the audit takes of the record serialized with and without it.
//
// JSON entry point (for the wasm binding), plan_storage_cleanup_json:
//   in:  {"entries":[{"key":"teg:record:42","bytes":1234,"live":false,
//                     "state":{"isActive","pending","heldForVerification","lastUpdate",...}|null,
//                     "audit":{"entries":120,"serializedBytes":1500,"withoutAuditBytes":600},
//                     "journalBytes":0}],
//         "budgetBytes":1048576,"activeUserId":42|null,"now":1700000000000,
//         "highWaterPermille":800,"activeAuditFloor":50,"expireAfterMs":2592000000}
//        (a store's listing: live, state and audit are optional, and so are activeUserId and the
//         last three top-level members; state null or absent is a record that could not be read,
//         which counts as unsynced; a key of neither form is refused)
//   out: {"evict":["teg:record:7",...],
//         "evictions":[{"key","userId","bytes","reason":"expired|quarantined|budget"}],
//         "trimAudit":[{"key","userId","keepEntries","freedBytes"}],
//         "usageBefore","usageAfter","highWater","cleanupNeeded","budgetMet"}
//   Errors: CONFIG_INVALID naming the field.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "status.h"

namespace earnings {

struct StoredRecord {
  std::string key;
  std::int64_t user_id = 0;  // 0: no user (a quarantined copy whose owner is unknown)
  std::int64_t bytes = 0;    // the whole record, audit included
  bool fully_synced = false;
  std::int64_t last_access_ms = 0;
  std::int64_t audit_entries = 0;
  std::int64_t audit_bytes = 0;  // part of `bytes`
  bool is_active = false;        // belongs to the user of this session
  bool quarantined = false;
};

struct StorageBudgetConfig {
  std::int64_t budget_bytes = 1024 * 1024;
  std::int64_t high_water_permille = 800;
  std::int64_t active_audit_floor = 50;
  std::int64_t expire_after_ms = 30LL * 24 * 3600 * 1000;
};

Status validate_storage_budget_config(const StorageBudgetConfig& config);

enum class EvictionReason { kExpired, kQuarantined, kBudget };
const char* to_string(EvictionReason reason);

struct Eviction {
  std::string key;
  std::int64_t user_id = 0;
  std::int64_t bytes = 0;
  EvictionReason reason = EvictionReason::kBudget;
};

struct AuditTrim {
  std::string key;
  std::int64_t user_id = 0;
  std::int64_t keep_entries = 0;  // keep the newest this many
  std::int64_t freed_bytes = 0;   // estimated from the record's average entry size
};

struct StoragePlan {
  std::vector<Eviction> evictions;
  std::vector<AuditTrim> audit_trims;
  std::int64_t usage_before = 0;
  std::int64_t usage_after = 0;
  std::int64_t high_water = 0;
  bool cleanup_needed = false;  // usage_before above the high-water mark
  bool budget_met = false;      // usage_after within budget_bytes
};

// `active_user_id` (0 for none) and each record's is_active both protect a record. REQUIRES:
// non-negative sizes with audit_bytes <= bytes (others are clamped into range; the JSON entry
// point refuses them). now_ms is the wall clock used for expiry.
Result<StoragePlan> plan_storage_cleanup(const std::vector<StoredRecord>& records,
                                         std::int64_t active_user_id, std::int64_t now_ms,
                                         const StorageBudgetConfig& config);

// js/storage/keys.js writes these keys: a user's record and a quarantined copy of one.
constexpr const char* kRecordKeyPrefix = "teg:record:";
constexpr const char* kQuarantineKeyPrefix = "teg:quarantine:";  // then "<userId>:<wallMs>"

// One key of the store's listing with what the caller read of its record.
struct StoredEntry {
  std::string key;
  std::int64_t bytes = 0;
  bool live = false;      // a session on this device holds this user's engine
  bool readable = false;  // the record's state was read (the members below hold it)
  bool mining = false;    // state.isActive
  std::int64_t pending_units = 0;
  std::int64_t held_units = 0;
  std::int64_t last_update_ms = 0;
  std::int64_t audit_entries = 0;
  std::int64_t serialized_bytes = 0;     // the record serialized; 0: unknown
  std::int64_t without_audit_bytes = 0;  // the same with no audit entries
  std::int64_t journal_bytes = 0;        // the user's tap journal entries after the record
};

// The record the plan decides on, by the rules above. kConfigInvalid for a key of neither form.
Result<StoredRecord> stored_record_from_entry(const StoredEntry& entry, std::int64_t active_user_id);

Result<std::string> plan_storage_cleanup_json(const std::string& text);

}  // namespace earnings
