#include <catch2/catch.hpp>

#include <nlohmann/json.hpp>

#include "documents.h"
#include "engine.h"
#include "golden_record_v2.h"

namespace earnings {
namespace {

using nlohmann::json;

constexpr std::int64_t kUser = 7000000001;

Bytes session3_record() { return Bytes(std::begin(golden::kSession3Record), std::end(golden::kSession3Record)); }

// Everything an app or a person can read of an engine, as JSON values (member order aside).
// Session 3 kept no rejected total: its record's refused op (0.011 TON) is the whole of it; nor
// an unconfirmed catch-up: it holds none.
void check_reads_as_session3(Engine& engine) {
  json state = json::parse(golden::kState);
  state["rejectedTotal"] = "0.01100000";
  state["unconfirmed"] = "0.00000000";
  state["unconfirmedSince"] = -1;
  state["unconfirmedAt"] = 0;
  state["unconfirmedMs"] = 0;
  state["unconfirmedRate"] = "0.00000000";
  CHECK(json::parse(engine.state_json()) == state);
  CHECK(json::parse(engine.audit_json()) == json::parse(golden::kAudit));
  CHECK(json::parse(engine.metrics_json()) == json::parse(golden::kMetrics));
  CHECK(json::parse(engine.conflicts_json()) == json::parse(golden::kConflicts));
  json outbox = json::parse(golden::kOutbox);
  outbox["rejectedTotal"] = "0.01100000";
  CHECK(test_documents::to_json(engine.outbox().to_document()) == outbox);
}

TEST_CASE("a record written by session 3's code reads exactly as that code read it", "[engine][codec]") {
  auto restored = Engine::restore(session3_record(), kUser, EngineConfig());
  REQUIRE(restored.ok());
  Engine& engine = restored.value();
  SECTION("state, audit trail, metrics, conflict log and outbox") {
    check_reads_as_session3(engine);
    CHECK(engine.conflicts().records().size() == 1);
    CHECK(engine.outbox().rejected().size() == 1);
    CHECK(engine.audit().size() == 24);
  }
  SECTION("written again by this code, it reads the same") {
    auto again = Engine::restore(engine.serialize().value(), kUser, EngineConfig());
    REQUIRE(again.ok());
    check_reads_as_session3(again.value());
  }
  SECTION("and the engine goes on from it") {
    const std::int64_t wall = 1700039595000 + 60000;
    REQUIRE(engine.tick(wall, 60100).ok());
    const json request = json::parse(engine.next_sync_request(wall, 60100, true).value());
    // The op frozen before the app closed goes first, under its id; the open deltas follow once
    // it is answered.
    REQUIRE(request["ops"].size() == 1);
    CHECK(request["ops"][0]["id"] == "c-golden:4");
    // A new session on a record that knew the server's clock: the 55 s the wall clock (corrected
    // by the stored server offset, -50 ms) claims at 36 TON/h are unconfirmed until a server time
    // judges them, neither in the balance nor held.
    const json state = json::parse(engine.state_json());
    CHECK(state["currentEarnings"] == "288.04100000");
    CHECK(state["heldForVerification"] == "107.87600000");
    CHECK(state["unconfirmed"] == "0.55000000");
  }
}

}  // namespace
}  // namespace earnings
