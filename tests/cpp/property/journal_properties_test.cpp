// The tap journal (src/journal.h): a store that holds the last checkpoint and the entries stored
// after it restores to exactly the engine of its last stored write (Property 22), and an entry
// that is damaged, another user's or checkpoint's, missing, repeated or reordered is refused
// without crashing and without changing the engine before its calls run (Properties 8, 15).
#include <rapidcheck.h>

#include <catch2/catch.hpp>

#include "engine_sim.h"
#include "journal.h"
#include "leaf_property.h"

using namespace earnings;
using namespace earnings_test;

namespace {

struct Stored {
  Bytes record;
  std::vector<Bytes> entries;
  std::vector<Bytes> expected;  // the engine's serialize() after each stored write of this record
};

// One write as SessionRecord makes it: a journal entry when asked and one fits, else a checkpoint.
void write(Sim& sim, Stored& store, bool journal) {
  std::optional<Bytes> entry = journal ? sim.engine.journal_entry() : std::nullopt;
  if (!entry) {
    store.record = sim.engine.checkpoint().value();
    store.entries.clear();
    store.expected.clear();
  } else if (entry->empty()) {
    return;
  } else {
    RC_ASSERT(sim.engine.journal_seq() == static_cast<std::int64_t>(store.entries.size()));
    store.entries.push_back(*entry);
  }
  sim.engine.stored();
  store.expected.push_back(sim.engine.serialize().value());
}

// Runs a random session of taps, ticks, writes, syncs and reloads from the store.
Stored session(Sim& sim) {
  Stored store;
  write(sim, store, false);
  const int steps = *rc::gen::inRange(1, 60);
  for (int i = 0; i < steps; ++i) {
    switch (*rc::gen::inRange(0, 8)) {
      case 0:
      case 1:
        sim.advance(*rc::gen::inRange<std::int64_t>(0, 5000));
        (void)sim.engine.add_earnings(*rc::gen::element<std::string>("0.00000001", "0.01", "5", "x"), sim.wall,
                                      sim.mono);
        break;
      case 2:
        sim.advance(*rc::gen::inRange<std::int64_t>(0, 120000));
        sim.tick();
        break;
      case 3:
      case 4:
        write(sim, store, true);
        break;
      case 5:
        write(sim, store, *rc::gen::arbitrary<bool>());
        break;
      case 6:
        sim.sync(*rc::gen::arbitrary<bool>() ? NetworkOutcome::kDelivered : NetworkOutcome::kServerError);
        break;
      default: {
        // The tab is killed: a new page restores what the store holds and goes on from it.
        Engine restored = std::move(Engine::restore(store.record, kSimUser, sim.engine.config()).value());
        for (const Bytes& entry : store.entries) RC_ASSERT(restored.replay_journal_entry(entry).ok());
        sim.engine = std::move(restored);
        sim.advance(*rc::gen::inRange<std::int64_t>(0, 60000));
        sim.mono = 0;
        sim.tick();
      }
    }
  }
  write(sim, store, true);
  return store;
}

// A session, then a checkpoint and a run of taps each stored as a journal entry after it.
Stored session_with_entries(Sim& sim) {
  Stored store = session(sim);
  write(sim, store, false);
  for (int i = *rc::gen::inRange(2, 8); i > 0; --i) {
    sim.advance(*rc::gen::inRange<std::int64_t>(0, 5000));
    if (*rc::gen::arbitrary<bool>()) sim.tick();
    RC_ASSERT(sim.engine.add_earnings("0.00000001", sim.wall, sim.mono).ok());
    write(sim, store, true);
  }
  return store;
}

}  // namespace

TEST_CASE("Property 22: a checkpoint and its tap journal restore to exactly the engine at its last stored write") {
  deterministic_prop("restore then replay is byte for byte the engine's own record", [] {
    Sim sim(sim_engine());
    const Stored store = session(sim);
    Engine restored = std::move(Engine::restore(store.record, kSimUser, sim.engine.config()).value());
    for (const Bytes& entry : store.entries) RC_ASSERT(restored.replay_journal_entry(entry).ok());
    RC_ASSERT(restored.serialize().value() == store.expected.back());
    RC_ASSERT(restored.state() == sim.engine.state());
  }, kCases);
}

TEST_CASE("Property 8: a refused tap journal entry is detected and changes nothing; none is applied twice") {
  deterministic_prop("damaged, foreign, missing, repeated or reordered entries stop the replay where they stand", [] {
    Sim sim(sim_engine());
    const Stored store = session_with_entries(sim);
    std::vector<Bytes> entries = store.entries;
    const std::size_t k = *rc::gen::inRange<std::size_t>(0, entries.size());
    std::size_t first_bad = k;
    switch (*rc::gen::inRange(0, 5)) {
      case 0: {
        Bytes& entry = entries[k];
        entry[*rc::gen::inRange<std::size_t>(0, entry.size())] ^= static_cast<std::uint8_t>(*rc::gen::inRange(1, 256));
        break;
      }
      case 1:
        entries[k].resize(*rc::gen::inRange<std::size_t>(0, entries[k].size()));
        break;
      case 2:
        entries.insert(entries.begin() + static_cast<std::ptrdiff_t>(k) + 1, entries[k]);
        first_bad = k + 1;
        break;
      case 3:
        entries.erase(entries.begin() + static_cast<std::ptrdiff_t>(k));
        break;
      default: {
        // Another user's entry, sealed with a valid checksum.
        auto foreign = decode_journal_entry(entries[k], kSimUser).value();
        foreign.user_id = kSimUser + 1;
        entries.insert(entries.begin() + static_cast<std::ptrdiff_t>(k),
                       encode_journal_entry(foreign, foreign.calls).value());
      }
    }
    Engine restored = std::move(Engine::restore(store.record, kSimUser, sim.engine.config()).value());
    std::size_t replayed = 0;
    for (; replayed < entries.size(); ++replayed) {
      const Bytes before = restored.serialize().value();
      const Status status = restored.replay_journal_entry(entries[replayed]);
      if (status.ok()) continue;
      RC_ASSERT((status.code() == ErrorCode::kRecordCorrupt || status.code() == ErrorCode::kRecordUserMismatch));
      // Every refusal here comes before the entry's calls run: nothing of it is applied.
      RC_ASSERT(restored.serialize().value() == before);
      break;
    }
    RC_ASSERT(replayed == std::min(first_bad, entries.size()));
    RC_ASSERT(restored.serialize().value() == store.expected[replayed]);
  }, kCases);
}

TEST_CASE("Property 15: a tap journal entry's damaged payload behind a valid checksum never crashes or half-applies") {
  deterministic_prop("a resealed entry either replays to the state it recorded or is refused", [] {
    Sim sim(sim_engine());
    const Stored store = session_with_entries(sim);
    const std::size_t k = *rc::gen::inRange<std::size_t>(0, store.entries.size());
    Bytes entry = store.entries[k];
    entry[kEnvelopeHeaderSize + *rc::gen::inRange<std::size_t>(0, entry.size() - kEnvelopeHeaderSize)] =
        *rc::gen::arbitrary<std::uint8_t>();
    Bytes payload(entry.begin() + kEnvelopeHeaderSize, entry.end());
    auto sealed = encode_record(payload);
    Engine restored = std::move(Engine::restore(store.record, kSimUser, sim.engine.config()).value());
    for (std::size_t i = 0; i < k; ++i) RC_ASSERT(restored.replay_journal_entry(store.entries[i]).ok());
    const Status status = sealed.ok() ? restored.replay_journal_entry(sealed.value()) : Status(ErrorCode::kRecordCorrupt, "");
    if (status.ok()) {
      // Still an entry (say, a tick moved between two others): applied only when it replays to
      // the state it recorded.
      const Engine recorded = std::move(Engine::restore(store.expected[k + 1], kSimUser, sim.engine.config()).value());
      RC_ASSERT(restored.state() == recorded.state());
    } else {
      RC_ASSERT((status.code() == ErrorCode::kRecordCorrupt || status.code() == ErrorCode::kRecordUserMismatch));
    }
  }, kCases);
}
