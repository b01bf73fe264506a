#include <rapidcheck.h>

#include <catch2/catch.hpp>

#include <set>
#include <string>
#include <vector>

#include "leaf_property.h"
#include "storage_budget.h"

using namespace earnings;
using earnings_test::deterministic_prop;

namespace {

// A store's listing as js/storage-cleanup.js hands it over: record keys of users 1..4 (or a key
// whose id cannot be read), quarantined copies, each with what was read of its record.
StoredEntry generate_entry() {
  StoredEntry entry;
  const int kind = *rc::gen::inRange(0, 10);
  const std::int64_t user = *rc::gen::inRange<std::int64_t>(1, 5);
  if (kind < 7) {
    entry.key = std::string(kRecordKeyPrefix) + std::to_string(user);
  } else if (kind < 9) {
    entry.key = std::string(kQuarantineKeyPrefix) + std::to_string(user) + ":" +
                std::to_string(*rc::gen::inRange<std::int64_t>(1, 1000000));
  } else {
    entry.key = std::string(kRecordKeyPrefix) + *rc::gen::element<std::string>("x", "", "0", "-1", "1.5");
  }
  entry.bytes = *rc::gen::inRange<std::int64_t>(0, 5000);
  entry.live = *rc::gen::inRange(0, 5) == 0;
  entry.readable = *rc::gen::inRange(0, 6) != 0;
  if (entry.readable) {
    entry.mining = *rc::gen::inRange(0, 3) == 0;
    entry.pending_units = *rc::gen::element<std::int64_t>(0, 0, 1, 150000000);
    entry.held_units = *rc::gen::element<std::int64_t>(0, 0, 0, 7);
    entry.last_update_ms = *rc::gen::inRange<std::int64_t>(0, 3000000000);
  }
  if (*rc::gen::inRange(0, 4) != 0) {
    entry.audit_entries = *rc::gen::inRange<std::int64_t>(0, 300);
    entry.serialized_bytes = *rc::gen::inRange<std::int64_t>(1, 6000);
    entry.without_audit_bytes = *rc::gen::inRange<std::int64_t>(0, entry.serialized_bytes + 1);
  }
  return entry;
}

bool owes_earnings(const StoredEntry& e) {
  return !e.readable || e.mining || e.pending_units != 0 || e.held_units != 0;
}

}  // namespace

TEST_CASE("Property 10: the cleanup decides from keys and sizes; nothing unsynced or active goes",
          "[storage][property]") {
  deterministic_prop("every listed entry becomes the record the rules say", [] {
    const StoredEntry entry = generate_entry();
    const std::int64_t active = *rc::gen::inRange<std::int64_t>(0, 5);
    auto record = stored_record_from_entry(entry, active);
    RC_ASSERT(record.ok());
    const StoredRecord& r = record.value();
    RC_ASSERT(r.key == entry.key);
    RC_ASSERT(r.bytes == entry.bytes);
    if (entry.key.rfind(kQuarantineKeyPrefix, 0) == 0) {
      RC_ASSERT(r.quarantined);
      RC_ASSERT(r.fully_synced);
      RC_ASSERT(!r.is_active);
      RC_ASSERT(std::string(kQuarantineKeyPrefix) + std::to_string(r.user_id) + ":" +
                    std::to_string(r.last_access_ms) == entry.key);
      return;
    }
    const std::string id_text = entry.key.substr(std::string(kRecordKeyPrefix).size());
    RC_ASSERT((r.user_id == 0) == (id_text.empty() || id_text.find_first_not_of("0123456789") != std::string::npos ||
                                    id_text[0] == '0'));
    if (r.user_id != 0) RC_ASSERT(std::to_string(r.user_id) == id_text);
    RC_ASSERT(!r.quarantined);
    RC_ASSERT(r.fully_synced == !owes_earnings(entry));
    RC_ASSERT(r.is_active == (entry.live || r.user_id == active));
    RC_ASSERT(r.last_access_ms == (entry.readable ? entry.last_update_ms : 0));
    const bool weighed = r.user_id != 0 && entry.serialized_bytes > 0;
    RC_ASSERT(r.audit_entries == (weighed ? entry.audit_entries : 0));
    RC_ASSERT(r.audit_bytes >= 0);
    RC_ASSERT(r.audit_bytes <= r.bytes);
    if (weighed) {
      RC_ASSERT(r.audit_bytes == entry.bytes * (entry.serialized_bytes - entry.without_audit_bytes) /
                                     entry.serialized_bytes);
    }
  });

  deterministic_prop("a plan over a listing never evicts a record that owes earnings or is in use", [] {
    const auto count = *rc::gen::inRange(0, 12);
    std::vector<StoredEntry> entries;
    for (int i = 0; i < count; ++i) entries.push_back(generate_entry());
    const std::int64_t active = *rc::gen::inRange<std::int64_t>(0, 5);
    std::vector<StoredRecord> records;
    for (const StoredEntry& entry : entries) records.push_back(stored_record_from_entry(entry, active).value());
    StorageBudgetConfig config;
    config.budget_bytes = *rc::gen::inRange<std::int64_t>(1, 20000);
    auto plan = plan_storage_cleanup(records, active, *rc::gen::inRange<std::int64_t>(0, 4000000000), config);
    RC_ASSERT(plan.ok());
    std::set<std::string> evicted;
    for (const Eviction& eviction : plan.value().evictions) evicted.insert(eviction.key);
    for (std::size_t i = 0; i < entries.size(); ++i) {
      const StoredEntry& entry = entries[i];
      if (entry.key.rfind(kQuarantineKeyPrefix, 0) == 0) continue;
      if (owes_earnings(entry) || entry.live || records[i].user_id == active) {
        RC_ASSERT(evicted.count(entry.key) == 0 || [&] {
          // Another entry with the same key (a repeated listing) may be the evicted one.
          for (std::size_t j = 0; j < entries.size(); ++j) {
            if (j != i && entries[j].key == entry.key) return true;
          }
          return false;
        }());
      }
    }
  });
}

TEST_CASE("a key of neither form is refused", "[storage]") {
  StoredEntry entry;
  entry.key = "teg:client:5";
  auto record = stored_record_from_entry(entry, 0);
  REQUIRE_FALSE(record.ok());
  CHECK(record.status().code() == ErrorCode::kConfigInvalid);
}
