#include <algorithm>

#include <catch2/catch.hpp>

#include <nlohmann/json.hpp>

#include "documents.h"
#include "engine.h"

namespace earnings {
namespace {

using nlohmann::json;
using test_documents::to_json;

constexpr std::int64_t kUser = 7000000001;
constexpr std::int64_t kT0 = 1700000000000;
constexpr Units kTon = 100000000;

Engine make_engine(EngineConfig config = EngineConfig()) {
  auto engine = Engine::create(kUser, "c-test", 99, config);
  REQUIRE(engine.ok());
  return std::move(engine.value());
}

// A server that applies every op and reports `total` (plus what it credits now).
json server_answer(const std::string& request, Units* total, std::int64_t server_time,
                   const char* status = "applied") {
  const json body = json::parse(request);
  json results = json::array();
  std::int64_t last_seq = 0;
  for (const json& op : body["ops"]) {
    const Units amount = parse_amount(op["amount"].get<std::string>()).value();
    if (std::string(status) == "applied") *total += amount;
    results.push_back(json{{"id", op["id"]}, {"seq", op["seq"]}, {"status", status},
                           {"credited", format_amount(std::string(status) == "applied" ? amount : 0)},
                           {"review", "0.00000000"}});
    last_seq = op["seq"].get<std::int64_t>();
  }
  return json{{"results", results},
              {"state", {{"userId", kUser}, {"totalEarned", format_amount(*total)},
                         {"currentEarnings", format_amount(*total)}, {"baseEarningRate", "0.00000000"},
                         {"pendingReview", "0.00000000"}, {"lastSeq", last_seq}, {"lastUpdate", server_time},
                         {"startDate", kT0}, {"isActive", true}, {"syncStatus", "synced"}}},
              {"serverTime", server_time}};
}

void start_mining(Engine& engine, const char* rate = "36.00000000") {
  REQUIRE(engine.set_rate(rate).ok());
  REQUIRE(engine.set_active(true, kT0, 0).ok());
}

TEST_CASE("Engine config") {
  SECTION("defaults are valid and printable") {
    CHECK(validate_config(EngineConfig()).ok());
    CHECK(to_json(config_to_document(EngineConfig()))["maxRatePerHour"] == "1000.00000000");
  }
  SECTION("parse: empty is defaults, known keys override, unknown keys and bad values refused") {
    CHECK(parse_engine_config("").ok());
    auto c = parse_engine_config(R"({"offlineCapMs":3600000,"maxRatePerHour":"5"})");
    REQUIRE(c.ok());
    CHECK(c.value().offline_cap_ms == 3600000);
    CHECK(c.value().max_rate_per_hour == 5 * kTon);
    CHECK(parse_engine_config(R"({"offlineCap":1})").status().code() == ErrorCode::kConfigInvalid);
    CHECK(parse_engine_config(R"({"maxBatch":0})").status().code() == ErrorCode::kConfigInvalid);
    CHECK(parse_engine_config(R"({"maxBatch":"5"})").status().code() == ErrorCode::kConfigInvalid);
    CHECK(parse_engine_config(R"({"backoffBaseMs":5000,"backoffCapMs":1000})").status().code() ==
          ErrorCode::kConfigInvalid);
    CHECK(parse_engine_config("[1]").status().code() == ErrorCode::kConfigInvalid);
    CHECK(parse_engine_config("{").status().code() == ErrorCode::kConfigInvalid);
  }
  SECTION("create validates user, client and config") {
    CHECK(Engine::create(0, "c", 1, EngineConfig()).status().code() == ErrorCode::kUserIdInvalid);
    CHECK(Engine::create(9007199254740992, "c", 1, EngineConfig()).status().code() == ErrorCode::kUserIdInvalid);
    CHECK(Engine::create(1, "c:1", 1, EngineConfig()).status().code() == ErrorCode::kRequestInvalid);
    EngineConfig bad;
    bad.max_batch = 0;
    CHECK(Engine::create(1, "c", 1, bad).status().code() == ErrorCode::kConfigInvalid);
  }
}

TEST_CASE("Engine accrual") {
  Engine engine = make_engine();
  start_mining(engine);  // 36 TON/h = 1000 units per ms
  SECTION("ticks accrue rate x mono time into one open delta") {
    for (int i = 1; i <= 60; ++i) REQUIRE(engine.tick(kT0 + i * 1000, i * 1000).value());
    CHECK(engine.state().current_earnings == 60000000);
    CHECK(engine.state().pending == 60000000);
    CHECK(engine.state().sync_status == SyncStatus::kPending);
    CHECK(engine.outbox().depth() == 1);
    CHECK(engine.state().start_date == kT0);
    CHECK(engine.state().last_update == kT0 + 60000);
  }
  SECTION("no accrual while inactive or at rate 0") {
    REQUIRE(engine.set_active(false, kT0 + 1000, 1000).ok());
    CHECK_FALSE(engine.tick(kT0 + 5000, 5000).value());
    REQUIRE(engine.set_rate("0").ok());
    REQUIRE(engine.set_active(true, kT0 + 6000, 6000).ok());
    CHECK_FALSE(engine.tick(kT0 + 9000, 9000).value());
    CHECK(engine.state().current_earnings == 1000000);
  }
  SECTION("a wall clock jump within a session is reported and does not count") {
    REQUIRE(engine.tick(kT0 + 1000, 1000).ok());
    REQUIRE(engine.tick(kT0 + 1000 + 3600000, 2000).ok());
    CHECK(engine.state().current_earnings == 2000000);
    CHECK(engine.metrics().counters().clock_jumps == 1);
    const json events = json::parse(engine.take_events());
    REQUIRE(events.size() == 1);
    CHECK(events[0]["type"] == "clock_jump");
    CHECK(events[0]["kind"] == "jump_forward");
    CHECK(json::parse(engine.take_events()).empty());
  }
  SECTION("invalid times are TIME_INVALID and change nothing but the audit") {
    const EarningsState before = engine.state();
    CHECK(engine.tick(-1, 0).status().code() == ErrorCode::kTimeInvalid);
    CHECK(engine.state() == before);
    CHECK(engine.audit().last()->operation_type == "error");
  }
  SECTION("the audit log coalesces ticks into one accrual entry") {
    for (int i = 1; i <= 100; ++i) REQUIRE(engine.tick(kT0 + i * 1000, i * 1000).ok());
    const json audit = json::parse(engine.audit_json());
    const json& last = audit.back();
    CHECK(last["operationType"] == "accrual");
    CHECK(last["metadata"]["ticks"] == 100);
    CHECK(last["metadata"]["credited"] == "1.00000000");
    CHECK(last["newValue"] == "1.00000000");
    for (int i = 101; i <= 110; ++i) REQUIRE(engine.tick(kT0 + i * 1000, i * 1000).ok());
    const json again = json::parse(engine.audit_json());
    CHECK(again.size() == audit.size());
    CHECK(again.back()["metadata"]["ticks"] == 110);
  }
}

TEST_CASE("Engine offline cap") {
  EngineConfig config;
  config.offline_cap_ms = 3600000;
  Engine engine = make_engine(config);
  start_mining(engine);
  SECTION("beyond the cap earnings are held for verification, not pending") {
    REQUIRE(engine.tick(kT0 + 5400000, 5400000).ok());
    CHECK(engine.state().pending == 3600000000);
    CHECK(engine.state().held_for_verification == 1800000000);
    CHECK(engine.state().current_earnings == 3600000000);
    const json events = json::parse(engine.take_events());
    REQUIRE(events.size() == 1);
    CHECK(events[0]["type"] == "review_needed");
    const json request = json::parse(engine.next_sync_request(kT0 + 5400000, 5400000, false).value());
    REQUIRE(request["ops"].size() == 2);
    CHECK(request["ops"][1]["type"] == "verification");
    CHECK(request["ops"][1]["amount"] == "18.00000000");
  }
}

TEST_CASE("Engine add_earnings") {
  Engine engine = make_engine();
  REQUIRE(engine.set_rate("36").ok());
  REQUIRE(engine.tick(kT0, 0).ok());
  SECTION("time not spent mining is the budget (plus tolerance)") {
    REQUIRE(engine.tick(kT0 + 10000, 10000).ok());
    // 10 s idle + 30 s tolerance at 1000 units/ms.
    CHECK(engine.add_earnings("0.4", kT0 + 10000, 10000).ok());
    CHECK(engine.state().current_earnings == 40000000);
    const Status over = engine.add_earnings("0.00000001", kT0 + 10000, 10000);
    CHECK(over.code() == ErrorCode::kAmountExceedsBudget);
    CHECK(engine.state().current_earnings == 40000000);
    CHECK(engine.audit().last()->operation_type == "error");
    CHECK(to_json(engine.audit().last()->metadata)["state"]["currentEarnings"] == "0.40000000");
  }
  SECTION("malformed, negative and zero amounts change nothing") {
    const EarningsState before = engine.state();
    CHECK(engine.add_earnings("1e3", kT0, 0).code() == ErrorCode::kAmountMalformed);
    CHECK(engine.add_earnings("-1", kT0, 0).code() == ErrorCode::kAmountNegative);
    CHECK(engine.add_earnings("0", kT0, 0).code() == ErrorCode::kAmountNegative);
    CHECK(engine.add_earnings("0.000000001", kT0, 0).code() == ErrorCode::kAmountPrecision);
    CHECK(engine.state() == before);
  }
  SECTION("rates above the configured maximum are refused") {
    CHECK(engine.set_rate("1000.00000001").code() == ErrorCode::kRateInvalid);
    CHECK(engine.set_rate("-1").code() == ErrorCode::kRateInvalid);
    CHECK(engine.set_rate("x").code() == ErrorCode::kRateInvalid);
    CHECK(engine.state().base_earning_rate == 3600000000);
  }
}

TEST_CASE("Engine sync round trip") {
  Engine engine = make_engine();
  start_mining(engine);
  REQUIRE(engine.tick(kT0 + 60000, 60000).ok());
  Units server_total = 0;
  SECTION("request, answer, synced; latency measured") {
    const std::string request = engine.next_sync_request(kT0 + 60000, 60000, false).value();
    const json body = json::parse(request);
    CHECK(body["clientId"] == "c-test");
    REQUIRE(body["ops"].size() == 1);
    CHECK(body["ops"][0]["id"] == "c-test:1");
    CHECK(body["ops"][0]["amount"] == "0.60000000");
    const json answer = server_answer(request, &server_total, kT0 + 60250);
    auto summary = engine.apply_sync_response(answer.dump(), kT0 + 60250, 60250);
    REQUIRE(summary.ok());
    const json events = json::parse(summary.value())["events"];
    REQUIRE(events.size() == 1);
    CHECK(events[0]["type"] == "applied");
    // The 250 ms between request and answer were accrued locally and stay pending.
    CHECK(engine.state().synced_total == 60000000);
    CHECK(engine.state().pending == 250000);
    CHECK(engine.state().current_earnings == 60250000);
    CHECK(engine.state().has_server_time);
    CHECK(engine.metrics().counters().sync_successes == 1);
    CHECK(engine.metrics().latency_window().back() == 250);
  }
  SECTION("nothing to send is an empty request") {
    REQUIRE(engine.set_active(false, kT0 + 60000, 60000).ok());
    const std::string request = engine.next_sync_request(kT0 + 60000, 60000, false).value();
    REQUIRE(engine.apply_sync_response(server_answer(request, &server_total, kT0 + 60000).dump(), kT0 + 60000,
                                       60000)
                .ok());
    CHECK(engine.next_sync_request(kT0 + 61000, 61000, false).value().empty());
    CHECK(engine.state().sync_status == SyncStatus::kSynced);
    CHECK(engine.sync_due_in_ms(kT0 + 61000, 61000).value() == 60000);
  }
  SECTION("an answer that does not match what was sent changes nothing") {
    const std::string request = engine.next_sync_request(kT0 + 60000, 60000, false).value();
    json answer = server_answer(request, &server_total, kT0 + 60000);
    answer["results"][0]["id"] = "c-test:5";
    const EarningsState before = engine.state();
    auto result = engine.apply_sync_response(answer.dump(), kT0 + 60000, 60000);
    CHECK(result.status().code() == ErrorCode::kResponseInvalid);
    CHECK(engine.state() == before);
    CHECK(engine.outbox().ops().size() == 1);
    CHECK(engine.apply_sync_response("not json", kT0 + 60000, 60000).status().code() ==
          ErrorCode::kResponseInvalid);
    answer = server_answer(request, &server_total, kT0 + 60000);
    answer["state"]["userId"] = kUser + 1;
    CHECK(engine.apply_sync_response(answer.dump(), kT0 + 60000, 60000).status().code() ==
          ErrorCode::kResponseInvalid);
    const json failure = json::parse(engine.apply_sync_failure(0, kT0 + 60000, 60000).value());
    CHECK(engine.metrics().counters().sync_failures[static_cast<int>(SyncFailureKind::kResponseInvalid)] == 1);
    CHECK(failure["failed"] == false);
  }
  SECTION("a rejected op is removed, recorded and surfaced") {
    const std::string request = engine.next_sync_request(kT0 + 60000, 60000, false).value();
    json answer = server_answer(request, &server_total, kT0 + 60000, "rejected");
    answer["results"][0]["code"] = "AMOUNT_EXCEEDS_BUDGET";
    answer["results"][0]["reason"] = "over budget";
    const json events = json::parse(engine.apply_sync_response(answer.dump(), kT0 + 60000, 60000).value())["events"];
    CHECK(events[0]["type"] == "rejected");
    CHECK(events[0]["reason"] == "over budget");
    CHECK(engine.state().current_earnings == 0);
    REQUIRE(engine.outbox().rejected().size() == 1);
    CHECK(engine.outbox().rejected()[0].op.amount == 60000000);
  }
  SECTION("the server's row rate replaces the local one; a zero row rate does not") {
    const std::string request = engine.next_sync_request(kT0 + 60000, 60000, false).value();
    json answer = server_answer(request, &server_total, kT0 + 60000);
    REQUIRE(engine.apply_sync_response(answer.dump(), kT0 + 60000, 60000).ok());
    CHECK(engine.state().base_earning_rate == 36 * kTon);
    REQUIRE(engine.tick(kT0 + 61000, 61000).ok());
    const std::string second = engine.next_sync_request(kT0 + 61000, 61000, false).value();
    answer = server_answer(second, &server_total, kT0 + 61000);
    answer["state"]["baseEarningRate"] = "1.00000000";
    REQUIRE(engine.apply_sync_response(answer.dump(), kT0 + 61000, 61000).ok());
    CHECK(engine.state().base_earning_rate == kTon);
    CHECK(engine.audit().last()->operation_type == "sync_applied");
    const json audit = json::parse(engine.audit_json());
    bool adopted = false;
    for (const json& entry : audit) {
      adopted = adopted || (entry["operationType"] == "rate_change" && entry["metadata"].value("source", "") == "server");
    }
    CHECK(adopted);
  }
  SECTION("a server holding less than it confirmed goes to the conflict log") {
    const std::string request = engine.next_sync_request(kT0 + 60000, 60000, false).value();
    json answer = server_answer(request, &server_total, kT0 + 60000);
    answer["state"]["totalEarned"] = "0.10000000";
    const json events = json::parse(engine.apply_sync_response(answer.dump(), kT0 + 60000, 60000).value())["events"];
    CHECK(events.back()["type"] == "conflict");
    CHECK(engine.state().review_flag);
    CHECK(engine.state().synced_total == 10000000);
    const json conflicts = json::parse(engine.conflicts_json());
    REQUIRE(conflicts.size() == 1);
    CHECK(conflicts[0]["kind"] == "lost_credits");
    CHECK(conflicts[0]["expectedTotal"] == "0.60000000");
    CHECK(engine.metrics().counters().conflicts == 1);
  }
}

TEST_CASE("Engine sync failures") {
  Engine engine = make_engine();
  start_mining(engine);
  REQUIRE(engine.tick(kT0 + 1000, 1000).ok());
  SECTION("retryable failures back off; the same ops are resent; failed after maxRetries") {
    std::int64_t now = 1000;
    const json first = json::parse(engine.next_sync_request(kT0 + now, now, false).value());
    for (int attempt = 0; attempt < 10; ++attempt) {
      const json failure = json::parse(engine.apply_sync_failure(503, kT0 + now, now).value());
      const std::int64_t wait = failure["retryInMs"];
      CHECK(wait <= backoff_ceiling(BackoffPolicy{1000, 60000, 8}, attempt));
      CHECK(failure["failed"] == (attempt + 1 >= 8));
      if (wait > 0) CHECK(engine.next_sync_request(kT0 + now, now, false).value().empty());
      now += wait;
      CHECK(engine.sync_due_in_ms(kT0 + now, now).value() == 0);
      const json retry = json::parse(engine.next_sync_request(kT0 + now, now, false).value());
      CHECK(retry["ops"] == first["ops"]);
    }
    CHECK(engine.state().sync_status == SyncStatus::kFailed);
    CHECK(engine.metrics().counters().retries == 10);
    CHECK(engine.outbox().ops().size() == 1);
  }
  SECTION("the protocol's refusal with a permanent code rejects the sent ops with its code and message") {
    const json request = json::parse(engine.next_sync_request(kT0 + 1000, 1000, false).value());
    const std::string amount = request["ops"][0]["amount"];
    const json failure = json::parse(engine.apply_sync_failure(
        400, kT0 + 1000, 1000, R"({"error":{"code":"REQUEST_INVALID","message":"ops[0].to is before from"}})").value());
    CHECK(failure["retryInMs"] == 0);
    CHECK(failure["permanent"] == true);
    CHECK(failure["code"] == "REQUEST_INVALID");
    CHECK(failure["events"][0]["type"] == "rejected");
    CHECK(failure["events"][0]["code"] == "REQUEST_INVALID");
    CHECK(failure["events"][0]["reason"] == "ops[0].to is before from");
    CHECK(engine.outbox().ops().empty());
    REQUIRE(engine.outbox().rejected().size() == 1);
    const json state = json::parse(engine.state_json());
    CHECK(state["rejectedTotal"] == amount);
    CHECK(state["pending"] == "0.00000000");
    const json audit = json::parse(engine.audit_json());
    CHECK(std::any_of(audit.begin(), audit.end(), [](const json& entry) {
      return entry["operationType"] == "sync_rejected" && entry["metadata"]["code"] == "REQUEST_INVALID";
    }));
  }
  SECTION("anything but the protocol's permanent refusal keeps the ops: a misconfiguration never erases earnings") {
    const char* bodies[][2] = {
        {"404", ""},
        {"404", "<!doctype html><title>Not Found</title>"},
        {"404", R"({"error":{"code":"NOT_FOUND","message":"no route for POST /api/v1/sync"}})"},
        {"405", "Method Not Allowed"},
        {"413", "<html>Request Entity Too Large</html>"},
        {"413", R"({"error":{"code":"PAYLOAD_TOO_LARGE","message":"request body over 262144 bytes"}})"},
        {"422", R"({"error":{"code":"SOMETHING_NEW","message":"a code this client does not know"}})"},
        {"400", R"({"error":{"code":"REQUEST_INVALID"}})"},
        {"400", R"({"code":"REQUEST_INVALID","message":"not the protocol's shape"})"},
        {"500", R"({"error":{"code":"REQUEST_INVALID","message":"a 5xx is never permanent"}})"},
        {"302", ""},
        {"200", "<html>a static host's page</html>"}};
    REQUIRE_FALSE(engine.next_sync_request(kT0 + 1000, 1000, false).value().empty());
    const std::size_t owed = engine.outbox().ops().size();
    const Units pending = engine.state().pending;
    for (const auto& body : bodies) {
      const json failure =
          json::parse(engine.apply_sync_failure(std::stoi(body[0]), kT0 + 1000, 1000, body[1]).value());
      CHECK(failure["permanent"] == false);
      CHECK(failure["events"].empty());
      CHECK(engine.outbox().ops().size() == owed);
      CHECK(engine.state().pending == pending);
    }
    CHECK(engine.outbox().rejected().empty());
    CHECK(engine.state().rejected_total == 0);
  }
  SECTION("401 is retried: an expired identity is not bad earnings") {
    REQUIRE_FALSE(engine.next_sync_request(kT0 + 1000, 1000, false).value().empty());
    REQUIRE(engine.apply_sync_failure(401, kT0 + 1000, 1000).ok());
    CHECK(engine.outbox().ops().size() == 1);
    CHECK(engine.outbox().rejected().empty());
  }
  SECTION("on_online ends the wait") {
    REQUIRE_FALSE(engine.next_sync_request(kT0 + 1000, 1000, false).value().empty());
    for (int i = 0; i < 6; ++i) REQUIRE(engine.apply_sync_failure(0, kT0 + 1000, 1000).ok());
    REQUIRE(engine.on_online(kT0 + 1000, 1000).ok());
    CHECK(engine.sync_due_in_ms(kT0 + 1000, 1000).value() == 0);
  }
  SECTION("status codes outside HTTP are refused") {
    CHECK(engine.apply_sync_failure(42, kT0 + 1000, 1000).status().code() == ErrorCode::kRequestInvalid);
  }
}

TEST_CASE("Engine catch-up: a reload's closed time waits for the server's clock") {
  Engine engine = make_engine();
  start_mining(engine);
  Units total = 0;
  const std::string first = engine.next_sync_request(kT0 + 1000, 1000, true).value();
  REQUIRE(engine.apply_sync_response(server_answer(first, &total, kT0 + 1000).dump(), kT0 + 1000, 1000).ok());
  const Units balance = engine.state().current_earnings;
  constexpr Units kPerMs = 1000;  // 36 TON/h
  constexpr std::int64_t kHour = 3600000;
  // Closed 60 s while the device clock moved an hour forward, then started with no server answer.
  Engine back = Engine::restore(engine.serialize().value(), kUser, EngineConfig()).value();
  REQUIRE(back.tick(kT0 + 1000 + 60000 + kHour, 10).ok());
  CHECK(back.state().current_earnings == balance);
  CHECK(back.state().unconfirmed_ms == 60000 + kHour);
  CHECK(unconfirmed_units(back.state()) == (60000 + kHour) * kPerMs);
  CHECK(json::parse(back.state_json())["unconfirmed"] == "36.60000000");
  SECTION("held across another reload and through a session, then judged by a sync answer") {
    Engine again = Engine::restore(back.serialize().value(), kUser, EngineConfig()).value();
    REQUIRE(again.tick(kT0 + 1000 + 90000 + kHour, 10).ok());
    CHECK(again.state().current_earnings == balance);
    CHECK(again.state().unconfirmed_ms == 90000 + kHour);
    REQUIRE(again.tick(kT0 + 1000 + 100000 + kHour, 10010).ok());
    CHECK(again.state().current_earnings == balance + 10000 * kPerMs);
    const std::string next = again.next_sync_request(kT0 + 1000 + 100000 + kHour, 10010, true).value();
    auto applied = again.apply_sync_response(server_answer(next, &total, kT0 + 101000).dump(),
                                             kT0 + 1000 + 100000 + kHour, 10010);
    REQUIRE(applied.ok());
    CHECK(again.state().current_earnings == balance + 100000 * kPerMs);
    CHECK(again.state().unconfirmed_since == -1);
    CHECK(unconfirmed_units(again.state()) == 0);
    const json events = json::parse(applied.value())["events"];
    auto told = std::find_if(events.begin(), events.end(), [](const json& e) { return e["type"] == "catch_up"; });
    REQUIRE(told != events.end());
    CHECK((*told)["claimedMs"] == 90000 + kHour);
    CHECK((*told)["confirmedMs"] == 90000);
    CHECK((*told)["refusedMs"] == kHour);
    const json audit = json::parse(again.audit_json());
    CHECK(std::any_of(audit.begin(), audit.end(), [](const json& e) { return e["operationType"] == "catch_up"; }));
  }
  SECTION("the server's row at start judges it at once: only the real closed time counts") {
    json row = server_answer(R"({"ops":[]})", &total, kT0 + 61000);
    REQUIRE(back.recover_from_server(row.dump(), "", kT0 + 61000 + kHour, 10).ok());
    CHECK(back.state().current_earnings == balance + 60000 * kPerMs);
    CHECK(back.state().unconfirmed_since == -1);
  }
  SECTION("a record that never knew the server's clock is judged by the device's, as before") {
    Engine fresh = make_engine();
    start_mining(fresh);
    Engine restored = Engine::restore(fresh.serialize().value(), kUser, EngineConfig()).value();
    REQUIRE(restored.tick(kT0 + 60000, 10).ok());
    CHECK(restored.state().current_earnings == 60000 * kPerMs);
    CHECK(restored.state().unconfirmed_since == -1);
  }
}

TEST_CASE("Engine storage") {
  Engine engine = make_engine();
  start_mining(engine);
  REQUIRE(engine.tick(kT0 + 1000, 1000).ok());
  REQUIRE_FALSE(engine.next_sync_request(kT0 + 1000, 1000, false).value().empty());
  REQUIRE(engine.tick(kT0 + 2000, 2000).ok());
  const Bytes bytes = engine.serialize().value();
  SECTION("restore brings back state, outbox, logs and metrics") {
    auto back = Engine::restore(bytes, kUser, EngineConfig());
    REQUIRE(back.ok());
    CHECK(back.value().state() == engine.state());
    CHECK(back.value().outbox().to_document() == engine.outbox().to_document());
    CHECK(back.value().to_document() == engine.to_document());
  }
  SECTION("the first observation after restore is a new session judged by wall") {
    Engine back = Engine::restore(bytes, kUser, EngineConfig()).value();
    REQUIRE(back.tick(kT0 + 2000 + 600000, 5000).ok());
    CHECK(back.state().current_earnings == engine.state().current_earnings + 600000000);
    CHECK(back.metrics().counters().offline_ms == 600000);
  }
  SECTION("another user's record is RECORD_USER_MISMATCH (Property 7)") {
    CHECK(Engine::restore(bytes, kUser + 1, EngineConfig()).status().code() == ErrorCode::kRecordUserMismatch);
  }
  SECTION("any flipped byte is detected") {
    for (std::size_t i = 0; i < bytes.size(); i += 7) {
      Bytes broken = bytes;
      broken[i] ^= 0x20;
      CHECK_FALSE(Engine::detect_corruption(broken, kUser).ok());
    }
    CHECK(Engine::detect_corruption(bytes, kUser).ok());
  }
  SECTION("trim_audit keeps the newest entries, counts the rest as dropped, and still restores") {
    const json before = json::parse(engine.audit_json());
    REQUIRE(before.size() >= 3);
    const std::uint64_t dropped_before = engine.audit().dropped();
    const EarningsState state_before = engine.state();
    const Bytes outbox_before = engine.outbox().to_document();
    CHECK(engine.trim_audit(2) == before.size() - 2);
    const json after = json::parse(engine.audit_json());
    REQUIRE(after.size() == 2);
    CHECK(after[0] == before[before.size() - 2]);
    CHECK(after[1] == before[before.size() - 1]);
    CHECK(engine.audit().dropped() == dropped_before + (before.size() - 2));
    CHECK(engine.trim_audit(5) == 0);
    CHECK(engine.state() == state_before);
    auto back = Engine::restore(engine.serialize().value(), kUser, EngineConfig());
    REQUIRE(back.ok());
    CHECK(back.value().state() == state_before);
    CHECK(back.value().outbox().to_document() == outbox_before);
    CHECK(json::parse(back.value().audit_json()) == after);
    CHECK(back.value().audit().dropped() == engine.audit().dropped());
  }
  SECTION("a consistent-looking record whose totals disagree with the outbox is corrupt") {
    json doc = to_json(engine.to_document());
    doc["state"]["pending"] = "0.00000000";
    doc["state"]["currentEarnings"] = doc["state"]["syncedTotal"];
    const Bytes forged = encode_record(test_documents::bytes(doc)).value();
    CHECK(Engine::restore(forged, kUser, EngineConfig()).status().code() == ErrorCode::kRecordCorrupt);
  }
}

TEST_CASE("Engine recovery from the server") {
  const json row = {{"state", {{"userId", kUser}, {"totalEarned", "5.00000000"}, {"currentEarnings", "5.00000000"},
                               {"baseEarningRate", "36.00000000"}, {"pendingReview", "0.00000000"}, {"lastSeq", 12},
                               {"lastUpdate", kT0}, {"startDate", kT0 - 1000}, {"isActive", true},
                               {"syncStatus", "synced"}}},
                    {"serverTime", kT0 + 60000}};
  SECTION("a fresh engine takes the server row and accrues the time since its lastUpdate") {
    Engine engine = make_engine();
    auto result = engine.recover_from_server(row.dump(), "c-new", kT0 + 60000, 50);
    REQUIRE(result.ok());
    CHECK(engine.state().synced_total == 5 * kTon);
    CHECK(engine.state().pending == 60000000);
    CHECK(engine.outbox().client_id() == "c-new");
    CHECK(engine.outbox().next_seq() == 13);
    CHECK(engine.state().is_active);
  }
  SECTION("a live engine keeps what it owes, rebased on the server total") {
    Engine engine = make_engine();
    start_mining(engine);
    REQUIRE(engine.tick(kT0 + 1000, 1000).ok());
    REQUIRE(engine.recover_from_server(row.dump(), "", kT0 + 1000, 1000).ok());
    CHECK(engine.state().synced_total == 5 * kTon);
    CHECK(engine.state().current_earnings == 5 * kTon + 1000000);
    CHECK(engine.outbox().next_seq() == 13);
  }
  SECTION("sent ops under the old client id are kept for review, not resent under the new id") {
    Engine engine = make_engine();
    start_mining(engine);
    REQUIRE(engine.tick(kT0 + 1000, 1000).ok());
    REQUIRE_FALSE(engine.next_sync_request(kT0 + 1000, 1000, false).value().empty());
    REQUIRE(engine.recover_from_server(row.dump(), "c-new", kT0 + 1000, 1000).ok());
    CHECK(engine.outbox().ops().empty());
    CHECK(engine.state().review_flag);
    CHECK(json::parse(engine.conflicts_json())[0]["kind"] == "orphaned_ops");
  }
  SECTION("another user's row is refused") {
    Engine engine = make_engine();
    json other = row;
    other["state"]["userId"] = 5;
    CHECK(engine.recover_from_server(other.dump(), "", kT0, 0).status().code() == ErrorCode::kRecordUserMismatch);
    CHECK(engine.recover_from_server("{}", "", kT0, 0).status().code() == ErrorCode::kResponseInvalid);
  }
}

}  // namespace
}  // namespace earnings

namespace earnings {
namespace {

// The seed's localStorage entry as an old app wrote it: float money, two undelivered earnings
// updates, a state snapshot op.
std::string legacy_entry(std::int64_t user = kUser, const char* rate = "1.5") {
  return std::string(R"({"state":{"userId":)") + std::to_string(user) +
         R"(,"currentEarnings":12.3,"baseEarningRate":)" + rate +
         R"(,"lastUpdate":1699999000000,"startDate":1699000000000,"isActive":true,"syncStatus":"failed"},
    "pendingOperations":[
      {"id":"a","userId":)" + std::to_string(user) + R"(,"type":"earnings_update","data":{"amount":0.1},
       "timestamp":1699998000000,"retryCount":5,"maxRetries":5},
      {"id":"b","userId":)" + std::to_string(user) + R"(,"type":"state_sync","data":{"currentEarnings":12.3},
       "timestamp":1699998500000,"retryCount":1,"maxRetries":5},
      {"id":"c","userId":)" + std::to_string(user) + R"(,"type":"earnings_update","data":{"earnings":0.2},
       "timestamp":1699999000000,"retryCount":0,"maxRetries":5}],
    "lastCleanup":0,"version":1})";
}

TEST_CASE("Engine::import_legacy") {
  SECTION("rate, mining flag and start date carry over; undelivered earnings go to review whole") {
    Engine engine = make_engine();
    REQUIRE(engine.import_legacy(legacy_entry(), kT0, 0).ok());
    const EarningsState& s = engine.state();
    CHECK(s.base_earning_rate == 150000000);
    CHECK(s.is_active);
    CHECK(s.start_date == 1699000000000);
    CHECK(s.held_for_verification == 30000000);  // 0.1 + 0.2, exactly
    CHECK(s.pending == 0);
    CHECK(s.current_earnings == 0);  // nothing is credited on the old app's word
    auto request = engine.next_sync_request(kT0, 0, true);
    REQUIRE(request.ok());
    const json body = json::parse(request.value());
    REQUIRE(body["ops"].size() == 1);
    CHECK(body["ops"][0]["type"] == "verification");
    CHECK(body["ops"][0]["amount"] == "0.30000000");
    CHECK(body["ops"][0]["from"] == 1699998000000);
    CHECK(body["ops"][0]["to"] == 1699999000000);
    const json audit = json::parse(engine.audit_json());
    auto imported = std::find_if(audit.begin(), audit.end(),
                                 [](const json& e) { return e["operationType"] == "legacy_import"; });
    REQUIRE(imported != audit.end());
    const json& entry = *imported;
    CHECK(entry["newValue"] == "0.30000000");
    CHECK(entry["metadata"]["claimedOps"] == 2);
    CHECK(entry["metadata"]["otherOps"] == 1);
    CHECK(entry["metadata"]["legacyCurrentEarnings"] == "12.30000000");
    const json events = json::parse(engine.take_events());
    CHECK(events.back()["reason"] == "legacy_import");
  }
  SECTION("a refused import changes nothing") {
    const EarningsState fresh = make_engine().state();
    struct Case {
      std::string text;
      ErrorCode code;
    };
    const std::vector<Case> cases = {
        {legacy_entry(kUser + 1), ErrorCode::kRecordUserMismatch},
        {legacy_entry(kUser, "5000"), ErrorCode::kRateInvalid},
        {legacy_entry().substr(0, 80), ErrorCode::kRecordCorrupt},
        {R"({"state":{},"version":2})", ErrorCode::kRecordVersion},
    };
    for (const Case& c : cases) {
      Engine engine = make_engine();
      const Status imported = engine.import_legacy(c.text, kT0, 0);
      CHECK(imported.code() == c.code);
      CHECK(engine.state() == fresh);
      CHECK(engine.outbox().empty());
    }
  }
  SECTION("only into a new engine") {
    Engine engine = make_engine();
    start_mining(engine);
    CHECK(engine.import_legacy(legacy_entry(), kT0 + 1000, 1000).code() == ErrorCode::kStateInvalid);
  }
}

}  // namespace
}  // namespace earnings
