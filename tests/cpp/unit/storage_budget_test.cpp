#include <catch2/catch.hpp>

#include <nlohmann/json.hpp>

#include "storage_budget.h"

using namespace earnings;
using nlohmann::json;

namespace {

constexpr std::int64_t kNow = 1700000000000;
constexpr std::int64_t kDay = 24LL * 3600 * 1000;

StoredRecord record(const std::string& key, std::int64_t user, std::int64_t bytes, bool synced,
                    std::int64_t last_access, std::int64_t audit_entries = 0,
                    std::int64_t audit_bytes = 0) {
  StoredRecord r;
  r.key = key;
  r.user_id = user;
  r.bytes = bytes;
  r.fully_synced = synced;
  r.last_access_ms = last_access;
  r.audit_entries = audit_entries;
  r.audit_bytes = audit_bytes;
  return r;
}

StorageBudgetConfig budget(std::int64_t bytes) {
  StorageBudgetConfig config;
  config.budget_bytes = bytes;
  return config;
}

std::vector<std::string> evicted_keys(const StoragePlan& plan) {
  std::vector<std::string> keys;
  for (const Eviction& e : plan.evictions) keys.push_back(e.key);
  return keys;
}

}  // namespace

TEST_CASE("storage cleanup under a budget", "[storage_budget]") {
  SECTION("below the high-water mark nothing happens") {
    auto plan = plan_storage_cleanup({record("a", 1, 400, true, kNow), record("b", 2, 400, true, kNow)},
                                     1, kNow, budget(1000)).value();
    CHECK(plan.evictions.empty());
    CHECK_FALSE(plan.cleanup_needed);
    CHECK(plan.budget_met);
    CHECK(plan.high_water == 800);
    CHECK(plan.usage_after == 800);
  }
  SECTION("other users' synced records go first, least recently used first") {
    auto plan = plan_storage_cleanup({record("active", 1, 300, true, kNow),
                                      record("old", 2, 300, true, kNow - 3000),
                                      record("newer", 3, 300, true, kNow - 1000),
                                      record("unsynced", 4, 300, false, kNow - 9000)},
                                     1, kNow, budget(1000)).value();
    CHECK(plan.cleanup_needed);
    CHECK(evicted_keys(plan) == std::vector<std::string>{"old", "newer"});
    CHECK(plan.evictions[0].reason == EvictionReason::kBudget);
    CHECK(plan.usage_after == 600);
    CHECK(plan.budget_met);
  }
  SECTION("then other users' audit, then the active user's audit down to the floor") {
    StorageBudgetConfig config = budget(1000);
    config.active_audit_floor = 10;
    auto plan = plan_storage_cleanup({record("active", 1, 700, false, kNow, 100, 500),
                                      record("other", 2, 400, false, kNow - 1000, 50, 100)},
                                     1, kNow, config).value();
    CHECK(plan.evictions.empty());
    REQUIRE(plan.audit_trims.size() == 2);
    CHECK(plan.audit_trims[0].key == "other");
    CHECK(plan.audit_trims[0].keep_entries == 0);
    CHECK(plan.audit_trims[0].freed_bytes == 100);
    CHECK(plan.audit_trims[1].key == "active");
    // 1100 bytes, high water 800: the other audit frees 100, then 40 entries of 5 bytes.
    CHECK(plan.audit_trims[1].keep_entries == 60);
    CHECK(plan.audit_trims[1].freed_bytes == 200);
    CHECK(plan.usage_after == 800);
    CHECK(plan.budget_met);
  }
  SECTION("the active user's state and unsynced data stay even when the budget cannot be met") {
    auto plan = plan_storage_cleanup({record("active", 1, 900, true, kNow),
                                      record("unsynced", 2, 900, false, kNow - 5 * kDay)},
                                     1, kNow, budget(1000)).value();
    CHECK(plan.evictions.empty());
    CHECK_FALSE(plan.budget_met);
    CHECK(plan.usage_after == 1800);
  }
  SECTION("the per-record active flag protects too") {
    StoredRecord active = record("active", 1, 900, true, kNow - 5000);
    active.is_active = true;
    auto plan = plan_storage_cleanup({active}, 0, kNow, budget(1000)).value();
    CHECK(plan.evictions.empty());
  }
  SECTION("quarantined copies are evicted before anyone's record") {
    StoredRecord broken = record("broken", 0, 300, false, kNow);
    broken.quarantined = true;
    auto plan = plan_storage_cleanup({record("other", 2, 300, true, kNow - 9000), broken,
                                      record("active", 1, 300, false, kNow)},
                                     1, kNow, budget(1000)).value();
    CHECK(evicted_keys(plan) == std::vector<std::string>{"broken"});
    CHECK(plan.evictions[0].reason == EvictionReason::kQuarantined);
  }
}

TEST_CASE("expired records are cleaned regardless of the budget", "[storage_budget]") {
  auto plan = plan_storage_cleanup({record("stale", 2, 10, true, kNow - 31 * kDay),
                                    record("stale-unsynced", 3, 10, false, kNow - 90 * kDay),
                                    record("recent", 4, 10, true, kNow - 29 * kDay),
                                    record("active-stale", 1, 10, true, kNow - 90 * kDay)},
                                   1, kNow, budget(1000000)).value();
  CHECK(evicted_keys(plan) == std::vector<std::string>{"stale"});
  CHECK(plan.evictions[0].reason == EvictionReason::kExpired);
  CHECK_FALSE(plan.cleanup_needed);
}

TEST_CASE("storage cleanup configuration", "[storage_budget]") {
  StorageBudgetConfig config;
  config.budget_bytes = 0;
  CHECK(plan_storage_cleanup({}, 0, kNow, config).status().code() == ErrorCode::kConfigInvalid);
  config = StorageBudgetConfig();
  config.high_water_permille = 1001;
  CHECK(plan_storage_cleanup({}, 0, kNow, config).status().code() == ErrorCode::kConfigInvalid);
}

TEST_CASE("storage cleanup JSON entry point", "[storage_budget]") {
  const json synced = {{"isActive", false}, {"pending", "0.00000000"}, {"heldForVerification", "0.00000000"},
                       {"lastUpdate", kNow}};
  json owing = synced;
  owing["pending"] = "1.00000000";
  owing["lastUpdate"] = 0;
  const json input = {
      {"entries", json::array({{{"key", "teg:record:1"}, {"bytes", 600}, {"state", owing}},
                               {{"key", "teg:record:2"}, {"bytes", 600}, {"state", synced}},
                               {{"key", "teg:quarantine:3:5"}, {"bytes", 10}}})},
      {"budgetBytes", 1000},
      {"activeUserId", 1},
      {"now", kNow}};
  SECTION("answers the documented shape") {
    json out = json::parse(plan_storage_cleanup_json(input.dump()).value());
    CHECK(out["evict"] == json::array({"teg:quarantine:3:5", "teg:record:2"}));
    CHECK(out["evictions"][0]["reason"] == "expired");
    CHECK(out["evictions"][0]["userId"] == 3);
    CHECK(out["evictions"][1]["reason"] == "budget");
    CHECK(out["usageBefore"] == 1210);
    CHECK(out["usageAfter"] == 600);
    CHECK(out["cleanupNeeded"] == true);
    CHECK(out["budgetMet"] == true);
  }
  SECTION("an unreadable record and a live one are kept; a record's audit is weighed by its share") {
    json listing = input;
    listing["entries"][1]["state"] = nullptr;
    listing["entries"].push_back({{"key", "teg:record:4"}, {"bytes", 300}, {"live", true}, {"state", synced}});
    listing["entries"].push_back({{"key", "teg:record:5"}, {"bytes", 400}, {"state", owing},
                                  {"audit", {{"entries", 40}, {"serializedBytes", 800}, {"withoutAuditBytes", 200}}}});
    json out = json::parse(plan_storage_cleanup_json(listing.dump()).value());
    CHECK(out["evict"] == json::array({"teg:quarantine:3:5"}));
    // teg:record:5's audit is 3/4 of its 800 serialized bytes, so 300 of its 400 stored ones.
    CHECK(out["trimAudit"][0]["key"] == "teg:record:5");
    CHECK(out["trimAudit"][0]["keepEntries"] == 0);
    CHECK(out["trimAudit"][0]["freedBytes"] == 300);
  }
  SECTION("a synced record with tap journal entries after it is kept, and weighs them too") {
    json listing = input;
    listing["entries"][1]["journalBytes"] = 150;
    // A copied journal entry in quarantine is read by its time like any quarantined copy.
    listing["entries"].push_back({{"key", "teg:quarantine:1:" + std::to_string(kNow) + ":journal:000002"}, {"bytes", 80}});
    json out = json::parse(plan_storage_cleanup_json(listing.dump()).value());
    CHECK(out["evict"] == json::array({"teg:quarantine:3:5", "teg:quarantine:1:" + std::to_string(kNow) + ":journal:000002"}));
    CHECK(out["usageBefore"] == 1210 + 150 + 80);
    listing["entries"][1]["journalBytes"] = -1;
    CHECK(plan_storage_cleanup_json(listing.dump()).status().message().find("entries[1].journalBytes") != std::string::npos);
  }
  SECTION("bad fields are named") {
    json bad = input;
    bad["entries"][1]["bytes"] = -1;
    auto result = plan_storage_cleanup_json(bad.dump());
    CHECK(result.status().code() == ErrorCode::kConfigInvalid);
    CHECK(result.status().message().find("entries[1].bytes") != std::string::npos);
    bad = input;
    bad["entries"][0]["live"] = "yes";
    CHECK(plan_storage_cleanup_json(bad.dump()).status().message().find("entries[0].live") != std::string::npos);
    bad = input;
    bad["entries"][0]["state"]["pending"] = 5;
    CHECK(plan_storage_cleanup_json(bad.dump()).status().message().find("entries[0].state.pending") !=
          std::string::npos);
    bad = input;
    bad["entries"][0]["audit"] = {{"entries", 1}, {"serializedBytes", 10}, {"withoutAuditBytes", 11}};
    CHECK(plan_storage_cleanup_json(bad.dump()).status().code() == ErrorCode::kConfigInvalid);
    bad = input;
    bad["entries"][0]["key"] = "teg:client:1";
    CHECK(plan_storage_cleanup_json(bad.dump()).status().code() == ErrorCode::kConfigInvalid);
    CHECK(plan_storage_cleanup_json("[").status().code() == ErrorCode::kConfigInvalid);
    bad = input;
    bad.erase("budgetBytes");
    CHECK(plan_storage_cleanup_json(bad.dump()).status().message().find("budgetBytes") != std::string::npos);
    bad = input;
    bad["records"] = bad["entries"];
    bad.erase("entries");
    CHECK(plan_storage_cleanup_json(bad.dump()).status().message() == "entries must be an array");
  }
}
