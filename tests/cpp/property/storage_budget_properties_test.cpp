#include <rapidcheck.h>

#include <catch2/catch.hpp>

#include <map>
#include <set>
#include <vector>

#include "leaf_property.h"
#include "storage_budget.h"

using namespace earnings;
using earnings_test::deterministic_prop;

namespace {

constexpr std::int64_t kNow = 1700000000000;
constexpr std::int64_t kDay = 24LL * 3600 * 1000;

struct Scenario {
  std::vector<StoredRecord> records;
  std::int64_t active_user = 0;
  StorageBudgetConfig config;
};

Scenario any_scenario() {
  Scenario s;
  s.active_user = *rc::gen::inRange<std::int64_t>(1, 6);
  const auto count = *rc::gen::inRange(0, 12);
  for (int k = 0; k < count; ++k) {
    StoredRecord r;
    r.key = "teg:" + std::to_string(k);
    r.quarantined = *rc::gen::inRange(0, 10) == 0;
    r.user_id = r.quarantined ? 0 : *rc::gen::inRange<std::int64_t>(1, 6);
    r.bytes = *rc::gen::inRange<std::int64_t>(0, 50000);
    r.audit_bytes = *rc::gen::inRange<std::int64_t>(0, r.bytes + 1);
    r.audit_entries = r.audit_bytes == 0 ? 0 : *rc::gen::inRange<std::int64_t>(0, 500);
    r.fully_synced = *rc::gen::arbitrary<bool>();
    r.last_access_ms = kNow - *rc::gen::inRange<std::int64_t>(0, 60 * kDay);
    s.records.push_back(r);
  }
  s.config.budget_bytes = *rc::gen::inRange<std::int64_t>(1, 400000);
  s.config.high_water_permille = *rc::gen::element<std::int64_t>(500, 800, 1000);
  s.config.active_audit_floor = *rc::gen::inRange<std::int64_t>(0, 100);
  s.config.expire_after_ms = *rc::gen::inRange<std::int64_t>(1, 45) * kDay;
  return s;
}

bool protected_record(const StoredRecord& r, std::int64_t active_user) {
  return r.is_active || r.user_id == active_user;
}

StoragePlan plan_for(const Scenario& s) {
  auto plan = plan_storage_cleanup(s.records, s.active_user, kNow, s.config);
  RC_ASSERT(plan.ok());
  return plan.value();
}

std::map<std::string, const StoredRecord*> by_key(const Scenario& s) {
  std::map<std::string, const StoredRecord*> out;
  for (const StoredRecord& r : s.records) out[r.key] = &r;
  return out;
}

}  // namespace

TEST_CASE("Property 9: cleanup preserves the active user's state", "[storage_budget][property]") {
  deterministic_prop("the active user's records are never evicted", [] {
    const Scenario s = any_scenario();
    const StoragePlan plan = plan_for(s);
    const auto records = by_key(s);
    for (const Eviction& e : plan.evictions) {
      const StoredRecord& r = *records.at(e.key);
      RC_ASSERT(r.quarantined || !protected_record(r, s.active_user));
    }
    for (const AuditTrim& t : plan.audit_trims) {
      const StoredRecord& r = *records.at(t.key);
      if (protected_record(r, s.active_user)) {
        RC_ASSERT(t.keep_entries >= std::min(r.audit_entries, s.config.active_audit_floor));
      }
    }
  });
}

TEST_CASE("Property 7: one user's cleanup never touches another user's unsynced data",
          "[storage_budget][property]") {
  deterministic_prop("no unsynced record is evicted, whoever is active", [] {
    const Scenario s = any_scenario();
    const StoragePlan plan = plan_for(s);
    const auto records = by_key(s);
    for (const Eviction& e : plan.evictions) {
      const StoredRecord& r = *records.at(e.key);
      RC_ASSERT(r.quarantined || r.fully_synced);
    }
    for (const AuditTrim& t : plan.audit_trims) {
      const StoredRecord& r = *records.at(t.key);
      RC_ASSERT(t.keep_entries >= 0);
      RC_ASSERT(t.keep_entries < r.audit_entries);
      RC_ASSERT(t.freed_bytes <= r.audit_bytes);
    }
  });
}

TEST_CASE("Property 10: cleanup runs when storage nears its limit", "[storage_budget][property]") {
  deterministic_prop("usage ends under the high-water mark unless only protected data is left", [] {
    const Scenario s = any_scenario();
    const StoragePlan plan = plan_for(s);
    const auto records = by_key(s);
    std::int64_t total = 0;
    for (const StoredRecord& r : s.records) total += r.bytes;
    RC_ASSERT(plan.usage_before == total);
    std::int64_t freed = 0;
    std::set<std::string> evicted;
    for (const Eviction& e : plan.evictions) {
      RC_ASSERT(evicted.insert(e.key).second);
      freed += e.bytes;
      if (!plan.cleanup_needed) RC_ASSERT(e.reason == EvictionReason::kExpired);
    }
    std::map<std::string, std::int64_t> audit_left;
    for (const AuditTrim& t : plan.audit_trims) {
      RC_ASSERT(evicted.count(t.key) == 0);
      freed += t.freed_bytes;
      audit_left[t.key] = t.keep_entries;
    }
    RC_ASSERT(plan.usage_after == total - freed);
    RC_ASSERT(plan.cleanup_needed == (total > plan.high_water));
    RC_ASSERT(plan.budget_met == (plan.usage_after <= s.config.budget_bytes));
    if (plan.usage_after > plan.high_water) {
      // Nothing evictable is left and every audit is down to what must stay.
      for (const StoredRecord& r : s.records) {
        if (evicted.count(r.key) != 0) continue;
        RC_ASSERT(!r.quarantined);
        RC_ASSERT(!r.fully_synced || protected_record(r, s.active_user));
        const std::int64_t left = audit_left.count(r.key) ? audit_left[r.key] : r.audit_entries;
        const std::int64_t floor = protected_record(r, s.active_user) ? s.config.active_audit_floor : 0;
        RC_ASSERT(left <= floor || r.audit_bytes == 0);
      }
    }
  });
}

TEST_CASE("Property 23: expired data is cleaned up automatically", "[storage_budget][property]") {
  deterministic_prop("other users' synced records idle past the expiry go, regardless of budget", [] {
    Scenario s = any_scenario();
    s.config.budget_bytes = 9007199254740991;  // no budget pressure at all
    const StoragePlan plan = plan_for(s);
    std::set<std::string> evicted;
    for (const Eviction& e : plan.evictions) {
      RC_ASSERT(e.reason == EvictionReason::kExpired);
      evicted.insert(e.key);
    }
    for (const StoredRecord& r : s.records) {
      const bool expired = kNow - r.last_access_ms > s.config.expire_after_ms;
      const bool evictable = r.quarantined || (r.fully_synced && !protected_record(r, s.active_user));
      RC_ASSERT((evicted.count(r.key) != 0) == (expired && evictable));
    }
    RC_ASSERT(plan.audit_trims.empty());
  });
}
