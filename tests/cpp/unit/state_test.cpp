#include <catch2/catch.hpp>

#include "documents.h"
#include "state.h"

namespace earnings {
namespace {

nlohmann::json state_to_json(const EarningsState& s) { return test_documents::to_json(state_to_document(s)); }

Result<EarningsState> state_from_json(const nlohmann::json& j) {
  return test_documents::read(state_from_document, j);
}

EarningsState sample_state() {
  EarningsState s;
  s.user_id = 7000000001;
  s.synced_total = 150000000;
  s.pending = 2500;
  s.current_earnings = 150002500;
  s.base_earning_rate = 100000000;
  s.start_date = 1700000000000;
  s.last_update = 1700000060000;
  s.is_active = true;
  s.sync_status = SyncStatus::kPending;
  s.held_for_verification = 10;
  s.under_review = 20;
  s.server_offset_ms = -1500;
  s.has_server_time = true;
  s.has_clock = true;
  s.last_wall = 1700000058500;
  s.last_mono = 60000;
  s.accrual_remainder = 3599999;
  s.unsynced_ms = 60000;
  s.budget_ms = 30000;
  return s;
}

TEST_CASE("EarningsState document") {
  SECTION("round trip keeps every field") {
    const EarningsState s = sample_state();
    auto back = state_from_json(state_to_json(s));
    REQUIRE(back.ok());
    CHECK(back.value() == s);
  }
  SECTION("money is an 8-decimal string, times are integers") {
    const nlohmann::json j = state_to_json(sample_state());
    CHECK(j["currentEarnings"] == "1.50002500");
    CHECK(j["syncStatus"] == "pending");
    CHECK(j["lastUpdate"] == 1700000060000);
    CHECK(j["userId"] == 7000000001);
  }
  SECTION("a wrong type is RECORD_CORRUPT naming the field") {
    nlohmann::json j = state_to_json(sample_state());
    j["currentEarnings"] = 1.5;
    auto back = state_from_json(j);
    REQUIRE_FALSE(back.ok());
    CHECK(back.status().code() == ErrorCode::kRecordCorrupt);
    CHECK(back.status().message().find("currentEarnings") != std::string::npos);
  }
  SECTION("a missing field is RECORD_CORRUPT") {
    nlohmann::json j = state_to_json(sample_state());
    j.erase("unsyncedMs");
    CHECK(state_from_json(j).status().code() == ErrorCode::kRecordCorrupt);
  }
  SECTION("unsafe integers and negative money are refused") {
    nlohmann::json j = state_to_json(sample_state());
    j["lastUpdate"] = 9007199254740992ULL;
    CHECK(state_from_json(j).status().code() == ErrorCode::kRecordCorrupt);
    j = state_to_json(sample_state());
    j["pending"] = "-0.00000001";
    CHECK(state_from_json(j).status().code() == ErrorCode::kRecordCorrupt);
  }
  SECTION("a broken invariant is STATE_INVALID") {
    nlohmann::json j = state_to_json(sample_state());
    j["currentEarnings"] = "9.00000000";
    CHECK(state_from_json(j).status().code() == ErrorCode::kStateInvalid);
  }
  SECTION("an unknown sync status is refused") {
    nlohmann::json j = state_to_json(sample_state());
    j["syncStatus"] = "done";
    CHECK(state_from_json(j).status().code() == ErrorCode::kRecordCorrupt);
  }
  SECTION("not an object") {
    CHECK(state_from_json(nlohmann::json::array()).status().code() == ErrorCode::kRecordCorrupt);
  }
}

TEST_CASE("SyncStatus names") {
  CHECK(std::string(to_string(SyncStatus::kSynced)) == "synced");
  CHECK(std::string(to_string(SyncStatus::kFailed)) == "failed");
  CHECK(parse_sync_status("pending").value() == SyncStatus::kPending);
  CHECK_FALSE(parse_sync_status("Pending").ok());
}

}  // namespace
}  // namespace earnings
