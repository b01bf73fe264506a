#include <catch2/catch.hpp>

#include <nlohmann/json.hpp>

#include "engine.h"
#include "golden_record_v2.h"
#include "journal.h"

namespace earnings {
namespace {

using nlohmann::json;

constexpr std::int64_t kUser = 9001;
constexpr std::int64_t kWall = 1700000000000;

Engine mining_engine() {
  Engine engine = std::move(Engine::create(kUser, "c-journal", 5, EngineConfig()).value());
  REQUIRE(engine.set_rate("36").ok());
  REQUIRE(engine.set_active(true, kWall, 0).ok());
  return engine;
}

// The write SessionRecord makes for a tap: the entry, confirmed stored.
Bytes tap(Engine& engine, std::int64_t ms, const char* amount = "0.001") {
  REQUIRE(engine.add_earnings(amount, kWall + ms, ms).ok());
  std::optional<Bytes> entry = engine.journal_entry();
  REQUIRE(entry.has_value());
  REQUIRE(!entry->empty());
  engine.stored();
  return *entry;
}

TEST_CASE("a tap journal entry needs a stored checkpoint of this version first", "[engine][journal]") {
  Engine engine = mining_engine();
  SECTION("a new engine stores its record first") {
    CHECK(!engine.journal_entry().has_value());
  }
  SECTION("a record stored by the previous version (no generation) restores unchanged and takes no entry") {
    const Bytes old(std::begin(golden::kSession3Record), std::end(golden::kSession3Record));
    Engine restored = std::move(Engine::restore(old, 7000000001, EngineConfig()).value());
    REQUIRE(restored.tick(1700039595000 + 1000, 1000).ok());
    CHECK(!restored.journal_entry().has_value());
    // Its first checkpoint is generation 1; entries follow that.
    const Bytes record = restored.checkpoint().value();
    restored.stored();
    CHECK(json::parse(decode_record(record).value().root().json())["journal"] == 1);
    REQUIRE(restored.tick(1700039595000 + 2000, 2000).ok());
    CHECK(restored.journal_entry().has_value());
  }
  SECTION("a checkpoint not confirmed stored leaves the journal where it was") {
    (void)engine.checkpoint().value();
    CHECK(!engine.journal_entry().has_value());
  }
}

TEST_CASE("a tap journal entry carries exactly the calls since the last stored write", "[engine][journal]") {
  Engine engine = mining_engine();
  const Bytes record = engine.checkpoint().value();
  engine.stored();
  REQUIRE(engine.tick(kWall + 500, 500).ok());
  const Bytes first = tap(engine, 1000);
  const json read = json::parse(decode_record(first).value().root().json());
  CHECK(read["u"] == kUser);
  CHECK(read["g"] == 1);
  CHECK(read["n"] == 0);
  REQUIRE(read["c"].size() == 2);
  CHECK(read["c"][0] == json({{"k", 0}, {"w", kWall + 500}, {"m", 500}, {"f", false}}));
  CHECK(read["c"][1] == json({{"k", 1}, {"w", kWall + 1000}, {"m", 1000}, {"f", false}, {"a", "0.00100000"}}));
  SECTION("nothing new: an empty entry") {
    CHECK(engine.journal_entry().value().empty());
  }
  SECTION("an entry not confirmed stored is carried again by the next one, at the same place") {
    REQUIRE(engine.add_earnings("0.002", kWall + 2000, 2000).ok());
    (void)engine.journal_entry();
    const Bytes again = tap(engine, 3000);
    const json second = json::parse(decode_record(again).value().root().json());
    CHECK(second["n"] == 1);
    CHECK(second["c"].size() == 2);
  }
  SECTION("replayed after the record, it is the engine, once") {
    Engine restored = std::move(Engine::restore(record, kUser, EngineConfig()).value());
    REQUIRE(restored.replay_journal_entry(first).ok());
    CHECK(restored.serialize().value() == engine.serialize().value());
    const Status twice = restored.replay_journal_entry(first);
    CHECK(twice.code() == ErrorCode::kRecordCorrupt);
    CHECK(twice.message() == "journal entry is a duplicate");
    CHECK(restored.state() == engine.state());
  }
}

TEST_CASE("changes no entry replays make the next write a checkpoint", "[engine][journal]") {
  Engine engine = mining_engine();
  (void)engine.checkpoint().value();
  engine.stored();
  SECTION("a refused tap") {
    CHECK(!engine.add_earnings("-1", kWall + 10, 10).ok());
    CHECK(!engine.journal_entry().has_value());
  }
  SECTION("a sync request") {
    REQUIRE(engine.tick(kWall + 10, 10).ok());
    REQUIRE(engine.next_sync_request(kWall + 20, 20, true).ok());
    CHECK(!engine.journal_entry().has_value());
    SECTION("until a checkpoint taken after it is stored") {
      (void)engine.checkpoint().value();
      engine.stored();
      tap(engine, 30);
    }
  }
  SECTION("a change made while a checkpoint was being stored") {
    (void)engine.checkpoint().value();
    engine.set_rate("40");
    engine.stored();
    CHECK(!engine.journal_entry().has_value());
  }
  SECTION("kJournalEntriesPerCheckpoint entries") {
    for (std::int64_t i = 0; i < kJournalEntriesPerCheckpoint; ++i) tap(engine, 10 + i, "0.00000001");
    REQUIRE(engine.add_earnings("0.00000001", kWall + 1000, 1000).ok());
    CHECK(!engine.journal_entry().has_value());
  }
}

TEST_CASE("a tap journal entry of another user or checkpoint is refused before anything runs", "[engine][journal]") {
  Engine engine = mining_engine();
  const Bytes record = engine.checkpoint().value();
  engine.stored();
  const Bytes entry = tap(engine, 1000);
  Engine restored = std::move(Engine::restore(record, kUser, EngineConfig()).value());
  const Bytes before = restored.serialize().value();
  SECTION("another user's") {
    CHECK(decode_journal_entry(entry, kUser + 1).status().code() == ErrorCode::kRecordUserMismatch);
    JournalEntry foreign = decode_journal_entry(entry, kUser).value();
    foreign.user_id = kUser + 1;
    CHECK(restored.replay_journal_entry(encode_journal_entry(foreign, foreign.calls).value()).code() ==
          ErrorCode::kRecordUserMismatch);
  }
  SECTION("another checkpoint's") {
    JournalEntry stale = decode_journal_entry(entry, kUser).value();
    stale.generation = 2;
    const Status status = restored.replay_journal_entry(encode_journal_entry(stale, stale.calls).value());
    CHECK(status.message() == "journal entry follows another checkpoint");
  }
  SECTION("one that does not follow the stored state") {
    JournalEntry moved = decode_journal_entry(entry, kUser).value();
    moved.before ^= 1;
    const Status status = restored.replay_journal_entry(encode_journal_entry(moved, moved.calls).value());
    CHECK(status.message() == "journal entry does not follow the state stored before it");
  }
  SECTION("one with a flipped bit") {
    Bytes damaged = entry;
    damaged[damaged.size() / 2] ^= 0x10;
    CHECK(restored.replay_journal_entry(damaged).code() == ErrorCode::kRecordCorrupt);
  }
  CHECK(restored.serialize().value() == before);
}

}  // namespace
}  // namespace earnings
