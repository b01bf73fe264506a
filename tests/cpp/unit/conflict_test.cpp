#include <catch2/catch.hpp>

#include "conflict.h"
#include "documents.h"

namespace earnings {
namespace {

Result<ServerState> parse_server_state(const nlohmann::json& row) {
  return test_documents::read(earnings::parse_server_state, row);
}

nlohmann::json server_row(const char* total = "1.50000000") {
  return nlohmann::json{{"userId", 42},          {"totalEarned", total},   {"currentEarnings", total},
                        {"baseEarningRate", "1.00000000"}, {"pendingReview", "0.25000000"}, {"lastSeq", 7},
                        {"lastUpdate", 1700000060123},     {"startDate", 1699990000000},    {"isActive", true},
                        {"syncStatus", "synced"}};
}

EarningsState local_state() {
  EarningsState s;
  s.user_id = 42;
  s.synced_total = 100000000;
  s.pending = 500;
  s.current_earnings = 100000500;
  s.start_date = 1;
  s.last_update = 2;
  return s;
}

TEST_CASE("parse_server_state") {
  SECTION("the documented row") {
    auto s = parse_server_state(server_row());
    REQUIRE(s.ok());
    CHECK(s.value().total_earned == 150000000);
    CHECK(s.value().pending_review == 25000000);
    CHECK(s.value().last_seq == 7);
  }
  SECTION("wrong types are RESPONSE_INVALID") {
    nlohmann::json row = server_row();
    row["totalEarned"] = 1.5;
    CHECK(parse_server_state(row).status().code() == ErrorCode::kResponseInvalid);
    row = server_row();
    row["userId"] = 0;
    CHECK_FALSE(parse_server_state(row).ok());
    row = server_row();
    row.erase("isActive");
    CHECK_FALSE(parse_server_state(row).ok());
  }
}

TEST_CASE("resolve_conflicts") {
  const ServerState server = parse_server_state(server_row()).value();
  SECTION("server wins, local pending is rebased on top") {
    auto r = resolve_conflicts(local_state(), server, 100000000, 0, 5);
    REQUIRE(r.ok());
    CHECK(r.value().state.synced_total == 150000000);
    CHECK(r.value().state.current_earnings == 150000500);
    CHECK(r.value().state.under_review == 25000000);
    CHECK_FALSE(r.value().conflict.has_value());
    CHECK_FALSE(r.value().state.review_flag);
  }
  SECTION("the server holding less than it confirmed is a conflict with local values kept") {
    auto r = resolve_conflicts(local_state(), server, 160000000, 1000, 5);
    REQUIRE(r.ok());
    REQUIRE(r.value().conflict.has_value());
    const ConflictRecord& c = *r.value().conflict;
    CHECK(c.kind == "lost_credits");
    CHECK(c.difference == 10000000);
    CHECK(c.local_current == 100000500);
    CHECK(test_documents::to_json(c.context)["localState"]["currentEarnings"] == "1.00000500");
    CHECK(r.value().state.review_flag);
    CHECK(r.value().state.synced_total == 150000000);
  }
  SECTION("within tolerance is no conflict") {
    auto r = resolve_conflicts(local_state(), server, 150000100, 100, 5);
    REQUIRE(r.ok());
    CHECK_FALSE(r.value().conflict.has_value());
  }
}

TEST_CASE("recovery") {
  const ServerState server = parse_server_state(server_row()).value();
  SECTION("recover_state_from_server builds a synced state from the row") {
    auto s = recover_state_from_server(server, 42, 1700000060123);
    REQUIRE(s.ok());
    CHECK(s.value().current_earnings == 150000000);
    CHECK(s.value().base_earning_rate == 100000000);
    CHECK(s.value().is_active);
    CHECK(validate_recovered_data(s.value()).ok);
  }
  SECTION("another user's row is RECORD_USER_MISMATCH") {
    CHECK(recover_state_from_server(server, 43, 0).status().code() == ErrorCode::kRecordUserMismatch);
  }
  SECTION("validate_recovered_data refuses pending or inconsistent states") {
    CHECK_FALSE(validate_recovered_data(local_state()).ok);
    EarningsState s = recover_state_from_server(server, 42, 1700000060123).value();
    s.sync_status = SyncStatus::kFailed;
    CHECK_FALSE(validate_recovered_data(s).ok);
  }
}

TEST_CASE("ConflictLog") {
  ConflictLog log;
  for (int i = 0; i < 60; ++i) {
    ConflictRecord r;
    r.at = i;
    r.kind = "lost_credits";
    r.difference = -i;
    log.add(r);
  }
  SECTION("bounded, oldest dropped and counted") {
    CHECK(log.records().size() == kConflictLogCapacity);
    CHECK(log.dropped() == 10);
    CHECK(log.records().front().at == 10);
  }
  SECTION("document round trip; corruption refused") {
    const Document stored = Document::from_bytes(log.to_document(), ErrorCode::kRecordCorrupt).value();
    auto back = ConflictLog::from_document(stored.root());
    REQUIRE(back.ok());
    CHECK(back.value().to_document() == log.to_document());
    nlohmann::json bad = test_documents::to_json(log.to_document());
    bad["records"][0]["context"] = "x";
    CHECK(test_documents::read(ConflictLog::from_document, bad).status().code() == ErrorCode::kRecordCorrupt);
  }
}

}  // namespace
}  // namespace earnings
