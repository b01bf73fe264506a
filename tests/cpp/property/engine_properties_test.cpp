#include <rapidcheck.h>

#include <catch2/catch.hpp>

#include "documents.h"
#include "engine_sim.h"
#include "leaf_property.h"
#include "validation.h"

using namespace earnings;
using namespace earnings_test;

namespace {

constexpr Units kRate = 3600000000;  // 36 TON/h: 1000 units per ms

NetworkOutcome any_outcome() { return static_cast<NetworkOutcome>(*rc::gen::inRange(0, 5)); }

NetworkOutcome failing_outcome() {
  const NetworkOutcome outcomes[] = {NetworkOutcome::kRequestLost, NetworkOutcome::kServerError,
                                     NetworkOutcome::kTooMany, NetworkOutcome::kMisrouted};
  return outcomes[*rc::gen::inRange(0, 4)];
}

Units mined(const Sim& sim) { return exact_accrual(kRate, sim.true_time - kSimStart); }

}  // namespace

TEST_CASE("Property 2: earnings sync timing - a local change reaches the server within syncIntervalMs") {
  deterministic_prop("a scheduler that obeys sync_due_in_ms never leaves an earning unsynced longer", [] {
    EngineConfig config;
    config.sync_interval_ms = *rc::gen::inRange<std::int64_t>(1000, 120000);
    Sim sim(sim_engine(config));
    const std::int64_t max_step = 5000;
    const int steps = *rc::gen::inRange(1, 200);
    for (int i = 0; i < steps; ++i) {
      sim.advance(*rc::gen::inRange<std::int64_t>(1, max_step));
      sim.tick();
      if (sim.engine.sync_due_in_ms(sim.wall, sim.mono).value() == 0) sim.sync(NetworkOutcome::kDelivered, false);
      const std::int64_t settled = sim.true_time - kSimStart - config.sync_interval_ms - max_step;
      if (settled > 0) RC_ASSERT(sim.server.total >= exact_accrual(kRate, settled));
    }
  }, kCases);
}

TEST_CASE("Property 4: data queuing under failure - failed syncs keep every earning queued") {
  deterministic_prop("through any series of failures pending equals everything mined", [] {
    Sim sim(sim_engine());
    const int steps = *rc::gen::inRange(1, 80);
    std::string first_ids;
    for (int i = 0; i < steps; ++i) {
      sim.advance(*rc::gen::inRange<std::int64_t>(1, 120000));
      sim.tick();
      if (*rc::gen::inRange(0, 2) == 0) sim.sync(failing_outcome());
      RC_ASSERT(sim.engine.state().pending == mined(sim));
      RC_ASSERT(sim.engine.state().current_earnings == mined(sim));
      RC_ASSERT(sim.server.total == 0);
      RC_ASSERT(sim.engine.outbox().depth() <= 2u);
    }
  }, kCases);
}

TEST_CASE("Property 5: offline data reconciliation - reconnecting loses nothing and rebases on the server") {
  deterministic_prop("after offline time and other devices' credits, server total = others + mined", [] {
    Sim sim(sim_engine());
    for (int i = *rc::gen::inRange(0, 5); i > 0; --i) {
      sim.advance(*rc::gen::inRange<std::int64_t>(1, 60000));
      sim.sync(NetworkOutcome::kDelivered);
    }
    for (int i = *rc::gen::inRange(1, 30); i > 0; --i) {
      sim.advance(*rc::gen::inRange<std::int64_t>(1, 600000));
      if (*rc::gen::inRange(0, 3) == 0) sim.reload(*rc::gen::inRange<std::int64_t>(0, 600000));
      sim.tick();
      sim.sync(failing_outcome());
    }
    const Units others = *rc::gen::inRange<Units>(0, 100 * kUnitsPerTon);
    sim.server.total += others;
    sim.engine.on_online(sim.wall, sim.mono);
    sim.drain();
    RC_ASSERT(sim.engine.outbox().empty());
    RC_ASSERT(sim.server.total == others + mined(sim));
    RC_ASSERT(sim.engine.state().current_earnings == sim.server.total);
    RC_ASSERT(sim.engine.conflicts().records().empty());
  }, kCases);
}

TEST_CASE("Property 6: network interruption resilience - nothing lost, nothing counted twice") {
  deterministic_prop("random drops of requests and of answers after commit, retries and reloads", [] {
    Sim sim(sim_engine());
    const int steps = *rc::gen::inRange(1, 120);
    for (int i = 0; i < steps; ++i) {
      switch (*rc::gen::inRange(0, 3)) {
        case 0:
          sim.advance(*rc::gen::inRange<std::int64_t>(1, 120000));
          sim.tick();
          break;
        case 1:
          sim.sync(any_outcome());
          break;
        default:
          sim.reload(*rc::gen::inRange<std::int64_t>(0, 120000));
          break;
      }
      // The server never holds more than was mined, and server + owed covers all of it.
      RC_ASSERT(sim.server.total <= mined(sim) + 0);
    }
    sim.advance(1);
    sim.tick();
    sim.drain();
    RC_ASSERT(sim.engine.outbox().empty());
    RC_ASSERT(sim.server.total == mined(sim));
    RC_ASSERT(sim.engine.state().current_earnings == sim.server.total);
    for (const auto& entry : sim.server.credit_count) RC_ASSERT(entry.second == 1);
  }, kCases);
}

TEST_CASE("Property 12: data preservation during errors - kept until a sync succeeds") {
  deterministic_prop("after any number of failures (beyond maxRetries) one success delivers all", [] {
    EngineConfig config;
    config.max_retries = *rc::gen::inRange<std::int64_t>(0, 10);
    Sim sim(sim_engine(config));
    const int failures = *rc::gen::inRange(1, 25);
    for (int i = 0; i < failures; ++i) {
      sim.advance(*rc::gen::inRange<std::int64_t>(1, 60000));
      sim.tick();
      sim.sync(failing_outcome());
      RC_ASSERT(sim.engine.state().pending == mined(sim));
    }
    const bool failed = failures >= config.max_retries;
    RC_ASSERT((sim.engine.state().sync_status == SyncStatus::kFailed) == failed);
    sim.drain();
    RC_ASSERT(sim.server.total == mined(sim));
    RC_ASSERT(sim.engine.state().sync_status == SyncStatus::kSynced);
  }, kCases);
  deterministic_prop("permanent refusals: pending before = pending after + refused, and the capped log drops nothing untraced", [] {
    Sim sim(sim_engine());
    const int steps = *rc::gen::inRange(1, 90);
    Units refused_total = 0;
    for (int i = 0; i < steps; ++i) {
      sim.advance(*rc::gen::inRange<std::int64_t>(1, 60000));
      sim.tick();
      const Units before = sim.engine.state().pending;
      const std::size_t refusals = sim.refused.size();
      sim.sync(*rc::gen::inRange(0, 2) == 0 ? NetworkOutcome::kRefused : failing_outcome());
      Units refused_now = 0;
      for (std::size_t k = refusals; k < sim.refused.size(); ++k) refused_now += sim.refused[k];
      refused_total += refused_now;
      RC_ASSERT(before == sim.engine.state().pending + refused_now);
      RC_ASSERT(sim.engine.state().rejected_total == refused_total);
      RC_ASSERT(sim.engine.state().current_earnings + refused_total == mined(sim));
      if (*rc::gen::inRange(0, 8) == 0) sim.reload(*rc::gen::inRange<std::int64_t>(0, 1000));
    }
    // The log keeps the newest refusals, in order; the total accounts for every older one.
    const auto& log = sim.engine.outbox().rejected();
    RC_ASSERT(log.size() == std::min(sim.refused.size(), kRejectedLogCapacity));
    Units logged = 0;
    for (std::size_t k = 0; k < log.size(); ++k) {
      RC_ASSERT(log[k].op.amount == sim.refused[sim.refused.size() - log.size() + k]);
      RC_ASSERT(log[k].code == "REQUEST_INVALID");
      logged += log[k].op.amount;
    }
    Units dropped = 0;
    for (std::size_t k = 0; k + log.size() < sim.refused.size(); ++k) dropped += sim.refused[k];
    RC_ASSERT(sim.engine.state().rejected_total == logged + dropped);
    sim.tick();
    sim.drain();
    RC_ASSERT(sim.server.total + refused_total == mined(sim));
  }, kCases);
}

TEST_CASE("Property 13: offline earnings calculation - local accrual is exact however ticks fall") {
  deterministic_prop("many ticks offline equal one tick over the same time", [] {
    const Units rate = *rc::gen::inRange<Units>(1, 1000 * kUnitsPerTon);
    const std::string rate_text = format_amount(rate);
    Sim ticked(sim_engine(EngineConfig(), rate_text.c_str()));
    Sim once(sim_engine(EngineConfig(), rate_text.c_str()));
    const int steps = *rc::gen::inRange(1, 100);
    for (int i = 0; i < steps; ++i) {
      const std::int64_t ms = *rc::gen::inRange<std::int64_t>(0, 200000);
      ticked.advance(ms);
      once.advance(ms);
      ticked.tick();
      if (*rc::gen::inRange(0, 4) == 0) ticked.sync(failing_outcome());
    }
    once.tick();
    const std::int64_t elapsed = ticked.true_time - kSimStart;
    RC_ASSERT(ticked.engine.state().current_earnings == once.engine.state().current_earnings);
    RC_ASSERT(ticked.engine.state().current_earnings == exact_accrual(rate, elapsed));
  }, kCases);
}

TEST_CASE("Property 14: automatic sync resume - back online means sync is due at once") {
  deterministic_prop("on_online ends any backoff and makes sync_due_in_ms 0 while earnings are owed", [] {
    Sim sim(sim_engine());
    sim.advance(*rc::gen::inRange<std::int64_t>(1, 60000));
    sim.tick();
    for (int i = *rc::gen::inRange(1, 20); i > 0; --i) sim.sync(failing_outcome());
    sim.advance(*rc::gen::inRange<std::int64_t>(0, 1000));
    sim.engine.on_online(sim.wall, sim.mono);
    RC_ASSERT(sim.engine.sync_due_in_ms(sim.wall, sim.mono).value() == 0);
    RC_ASSERT(!sim.engine.next_sync_request(sim.wall, sim.mono, false).value().empty());
  }, kCases);
}

TEST_CASE("Property 16: earnings amount validation - accepted earnings stay within the budget") {
  deterministic_prop("add_earnings accepts at most rate x (idle time + tolerance); refusals change nothing", [] {
    EngineConfig config;
    config.tolerance_ms = *rc::gen::inRange<std::int64_t>(0, 60000);
    auto created = Engine::create(kSimUser, "sim", 1, config);
    Sim sim(std::move(created.value()));
    sim.engine.set_rate(format_amount(kRate));
    sim.engine.tick(sim.wall, sim.mono);
    Units accepted = 0;
    const int steps = *rc::gen::inRange(1, 60);
    for (int i = 0; i < steps; ++i) {
      sim.advance(*rc::gen::inRange<std::int64_t>(0, 30000));
      const Units amount = *rc::gen::inRange<Units>(-1000, 40000000);
      const EarningsState before = sim.engine.state();
      const Status status = sim.engine.add_earnings(format_amount(amount), sim.wall, sim.mono);
      if (status.ok()) {
        RC_ASSERT(amount > 0);
        accepted += amount;
      } else {
        RC_ASSERT(sim.engine.state().current_earnings == before.current_earnings);
        RC_ASSERT(sim.engine.state().pending == before.pending);
      }
      const Units budget = exact_accrual(kRate, sim.true_time - kSimStart + config.tolerance_ms);
      RC_ASSERT(accepted <= budget);
      RC_ASSERT(sim.engine.state().current_earnings == accepted);
    }
  }, kCases);
}

TEST_CASE("Property 17: timestamp sequence validation - every request's ops are in time order") {
  deterministic_prop("ops by seq have non-decreasing spans and from <= to, across jumps and reloads", [] {
    Sim sim(sim_engine());
    std::vector<std::int64_t> stamps;
    std::int64_t last_seq = 0;
    const int steps = *rc::gen::inRange(1, 40);
    for (int i = 0; i < steps; ++i) {
      sim.advance(*rc::gen::inRange<std::int64_t>(1, 100000));
      if (*rc::gen::inRange(0, 5) == 0) sim.wall += *rc::gen::inRange<std::int64_t>(-3600000, 3600000);
      if (*rc::gen::inRange(0, 8) == 0) sim.reload(*rc::gen::inRange<std::int64_t>(0, 100000));
      if (*rc::gen::inRange(0, 6) == 0) sim.engine.set_rate(format_amount(*rc::gen::inRange<Units>(0, kRate)));
      sim.tick();
      auto request = sim.engine.next_sync_request(sim.wall, sim.mono, true);
      RC_ASSERT(request.ok());
      if (request.value().empty()) continue;
      const json body = json::parse(request.value());
      for (const json& op : body["ops"]) {
        const std::int64_t seq = op["seq"];
        if (seq <= last_seq) continue;  // a retry of an op already checked
        RC_ASSERT(seq == last_seq + 1);
        last_seq = seq;
        stamps.push_back(op["from"]);
        stamps.push_back(op["to"]);
      }
      const json answer = sim.server.handle(request.value(), sim.true_time);
      if (*rc::gen::inRange(0, 2) == 0) sim.engine.apply_sync_response(answer.dump(), sim.wall, sim.mono);
      else sim.engine.apply_sync_failure(0, sim.wall, sim.mono);
    }
    RC_ASSERT(validate_timestamps(stamps).ok);
  }, kCases);
  deterministic_prop("any step back in a sequence is TIMESTAMP_ORDER and flagged", [] {
    std::vector<std::int64_t> stamps = *rc::gen::container<std::vector<std::int64_t>>(
        rc::gen::inRange<std::int64_t>(0, 1000000));
    std::sort(stamps.begin(), stamps.end());
    RC_ASSERT(validate_timestamps(stamps).ok);
    const bool has_distinct_ends = stamps.size() >= 2u && stamps.front() < stamps.back();
    RC_PRE(has_distinct_ends);
    std::swap(stamps.front(), stamps.back());
    const ValidationResult result = validate_timestamps(stamps);
    RC_ASSERT(result.code == ErrorCode::kTimestampOrder);
    RC_ASSERT(result.flag_for_review);
  }, kCases);
}

TEST_CASE("Property 18: inconsistency detection - invariants hold, breaks are flagged") {
  deterministic_prop("the engine's state stays valid through any sequence of operations", [] {
    Sim sim(sim_engine());
    const int steps = *rc::gen::inRange(1, 80);
    for (int i = 0; i < steps; ++i) {
      switch (*rc::gen::inRange(0, 5)) {
        case 0: sim.advance(*rc::gen::inRange<std::int64_t>(0, 4000000)); sim.tick(); break;
        case 1: sim.sync(any_outcome()); break;
        case 2: sim.reload(*rc::gen::inRange<std::int64_t>(0, 40000000)); break;
        case 3: sim.engine.add_earnings(format_amount(*rc::gen::inRange<Units>(1, 100000)), sim.wall, sim.mono); break;
        default: sim.engine.set_active(*rc::gen::arbitrary<bool>(), sim.wall, sim.mono); break;
      }
      const ValidationResult check = validate_state(sim.engine.state());
      RC_ASSERT(check.ok);
    }
  }, kCases);
  deterministic_prop("a stored state whose total disagrees with its parts is refused and flagged", [] {
    Sim sim(sim_engine());
    sim.advance(*rc::gen::inRange<std::int64_t>(1, 100000));
    sim.tick();
    EarningsState broken = sim.engine.state();
    const Units delta = *rc::gen::inRange<Units>(1, 1000000);
    broken.current_earnings += *rc::gen::arbitrary<bool>() ? delta : -std::min(delta, broken.current_earnings);
    RC_PRE(broken.current_earnings != sim.engine.state().current_earnings);
    const ValidationResult check = validate_state(broken);
    RC_ASSERT(!check.ok);
    RC_ASSERT(check.flag_for_review);
    const Document stored = Document::from_bytes(state_to_document(broken), ErrorCode::kRecordCorrupt).value();
    RC_ASSERT(state_from_document(stored.root()).status().code() == ErrorCode::kStateInvalid);
  }, kCases);
  deterministic_prop("an answer whose credit does not add up flags the state for review", [] {
    Sim sim(sim_engine());
    sim.advance(*rc::gen::inRange<std::int64_t>(1, 100000));
    sim.tick();
    const std::string request = sim.engine.next_sync_request(sim.wall, sim.mono, true).value();
    json answer = sim.server.handle(request, sim.true_time);
    const Units sent = parse_amount(answer["results"][0]["credited"].get<std::string>()).value();
    const Units credited = *rc::gen::inRange<Units>(0, sent * 2 + 2);
    RC_PRE(credited != sent);
    answer["results"][0]["credited"] = format_amount(credited);
    RC_ASSERT(sim.engine.apply_sync_response(answer.dump(), sim.wall, sim.mono).ok());
    RC_ASSERT(sim.engine.state().review_flag);
    bool reported = false;
    for (const ConflictRecord& record : sim.engine.conflicts().records()) {
      reported = reported || record.kind == "inconsistent_answer";
    }
    RC_ASSERT(reported);
  }, kCases);
}

TEST_CASE("Property 24: offline earnings continuation - accrual continues across reloads while offline") {
  deterministic_prop("offline with reloads, current equals rate x time mined", [] {
    Sim sim(sim_engine());
    const int steps = *rc::gen::inRange(1, 30);
    for (int i = 0; i < steps; ++i) {
      sim.advance(*rc::gen::inRange<std::int64_t>(0, 300000));
      if (*rc::gen::inRange(0, 3) == 0) sim.reload(*rc::gen::inRange<std::int64_t>(0, 300000));
      sim.tick();
      if (*rc::gen::inRange(0, 3) == 0) sim.sync(failing_outcome());
      RC_ASSERT(sim.engine.state().current_earnings == mined(sim));
    }
  }, kCases);
}

TEST_CASE("Property 25: offline-to-online sync - accumulated offline earnings go out on reconnection") {
  deterministic_prop("after on_online one due sync delivers every offline earning", [] {
    Sim sim(sim_engine());
    for (int i = *rc::gen::inRange(1, 40); i > 0; --i) {
      sim.advance(*rc::gen::inRange<std::int64_t>(1, 300000));
      sim.tick();
      if (*rc::gen::inRange(0, 2) == 0) sim.sync(failing_outcome());
    }
    sim.engine.on_online(sim.wall, sim.mono);
    RC_ASSERT(sim.engine.sync_due_in_ms(sim.wall, sim.mono).value() == 0);
    RC_ASSERT(sim.sync(NetworkOutcome::kDelivered, false));
    if (!sim.engine.outbox().empty()) sim.sync(NetworkOutcome::kDelivered, false);
    RC_ASSERT(sim.server.total == mined(sim));
    RC_ASSERT(sim.engine.state().sync_status == SyncStatus::kSynced);
  }, kCases);
}

TEST_CASE("Property 26: offline earnings capping - unverified offline earnings never pass the cap") {
  deterministic_prop("pending accrual since the last ack is at most rate x offlineCapMs", [] {
    EngineConfig config;
    config.offline_cap_ms = *rc::gen::inRange<std::int64_t>(3600000, 12 * 3600000);
    Sim sim(sim_engine(config));
    const int steps = *rc::gen::inRange(1, 30);
    for (int i = 0; i < steps; ++i) {
      if (*rc::gen::inRange(0, 2) == 0) {
        sim.reload(*rc::gen::inRange<std::int64_t>(0, 48 * 3600000LL));
      } else {
        sim.advance(*rc::gen::inRange<std::int64_t>(0, 6 * 3600000LL));
      }
      sim.tick();
      if (*rc::gen::inRange(0, 4) == 0) sim.sync(failing_outcome());
      const EarningsState& s = sim.engine.state();
      RC_ASSERT(s.pending <= exact_accrual(kRate, config.offline_cap_ms) + 1);
      RC_ASSERT(s.pending + s.held_for_verification == mined(sim));
    }
  }, kCases);
}

TEST_CASE("Property 28: excessive offline earnings verification - the excess goes to review, never credited") {
  deterministic_prop("held earnings are sent as one verification op and land in review whole", [] {
    EngineConfig config;
    config.offline_cap_ms = *rc::gen::inRange<std::int64_t>(3600000, 8 * 3600000);
    Sim sim(sim_engine(config));
    sim.reload(*rc::gen::inRange<std::int64_t>(0, 72 * 3600000LL));
    sim.tick();
    const Units held = sim.engine.state().held_for_verification;
    const std::int64_t over = sim.true_time - kSimStart - config.offline_cap_ms;
    RC_ASSERT((held > 0) == (over > 0 && exact_accrual(kRate, sim.true_time - kSimStart) >
                                             exact_accrual(kRate, config.offline_cap_ms)));
    sim.drain();
    RC_ASSERT(sim.server.review == held);
    RC_ASSERT(sim.server.total == mined(sim) - held);
    RC_ASSERT(sim.engine.state().held_for_verification == 0);
    int verification_ops = 0;
    for (const auto& entry : sim.server.credit_count) verification_ops += entry.second;
    RC_ASSERT(verification_ops <= 2);
  }, kCases);
}

TEST_CASE("Property 30: error context capture - every refused call is audited with the state") {
  deterministic_prop("a failing call leaves an error entry with its code and a state snapshot", [] {
    Sim sim(sim_engine());
    sim.advance(*rc::gen::inRange<std::int64_t>(1, 100000));
    sim.tick();
    const int steps = *rc::gen::inRange(1, 20);
    for (int i = 0; i < steps; ++i) {
      const EarningsState before = sim.engine.state();
      Status status;
      switch (*rc::gen::inRange(0, 5)) {
        case 0: status = sim.engine.add_earnings(*rc::gen::element<std::string>("x", "-1", "1e5", "0.000000001", ""), sim.wall, sim.mono); break;
        case 1: status = sim.engine.add_earnings("999999", sim.wall, sim.mono); break;
        case 2: status = sim.engine.tick(-*rc::gen::inRange<std::int64_t>(1, 100), sim.mono).status(); break;
        case 3: status = sim.engine.apply_sync_response(*rc::gen::element<std::string>("", "{", "[]", "{\"results\":1}"), sim.wall, sim.mono).status(); break;
        default: status = sim.engine.set_rate(*rc::gen::element<std::string>("-2", "abc", "100000")); break;
      }
      RC_ASSERT(!status.ok());
      const AuditEntry* last = sim.engine.audit().last();
      RC_ASSERT(last != nullptr);
      RC_ASSERT(last->operation_type == "error");
      const json metadata = test_documents::to_json(last->metadata);
      RC_ASSERT(metadata["code"] == status.code_name());
      RC_ASSERT(metadata["state"] == test_documents::to_json(state_to_document(before)));
      RC_ASSERT(sim.engine.state().current_earnings == before.current_earnings);
    }
  }, kCases);
}

TEST_CASE("Property 31: discrepancy reporting - a server holding less than confirmed is reported") {
  deterministic_prop("lost credits beyond tolerance produce a report with expected, server and difference", [] {
    Sim sim(sim_engine());
    sim.advance(*rc::gen::inRange<std::int64_t>(1000, 1000000));
    sim.tick();
    sim.sync(NetworkOutcome::kDelivered);
    const Units confirmed = sim.engine.state().synced_total;
    const Units tolerance = exact_accrual(kRate, sim.engine.config().tolerance_ms);
    const Units lost = *rc::gen::inRange<Units>(0, confirmed + 1);
    sim.server.total -= lost;
    sim.advance(1000);
    sim.tick();
    sim.sync(NetworkOutcome::kDelivered);
    const auto& records = sim.engine.conflicts().records();
    if (lost > tolerance) {
      RC_ASSERT(records.size() == 1u);
      RC_ASSERT(records[0].kind == "lost_credits");
      RC_ASSERT(records[0].difference == lost);
      RC_ASSERT(records[0].server_total == sim.server.total);
      RC_ASSERT(test_documents::to_json(records[0].context).contains("localState"));
      RC_ASSERT(sim.engine.state().review_flag);
      RC_ASSERT(sim.engine.metrics().counters().conflicts == 1u);
    } else {
      RC_ASSERT(records.empty());
    }
    RC_ASSERT(sim.engine.state().synced_total == sim.server.total);
  }, kCases);
}

TEST_CASE("Property 8: local storage recovery - a corrupt record is detected and rebuilt from the server") {
  deterministic_prop("any flipped byte is detected; recovery yields the server's total and resumes syncing", [] {
    Sim sim(sim_engine());
    for (int i = *rc::gen::inRange(1, 10); i > 0; --i) {
      sim.advance(*rc::gen::inRange<std::int64_t>(1, 100000));
      sim.tick();
      sim.sync(*rc::gen::arbitrary<bool>() ? NetworkOutcome::kDelivered : NetworkOutcome::kAnswerLost);
    }
    Bytes bytes = sim.engine.serialize().value();
    const std::size_t at = *rc::gen::inRange<std::size_t>(0, bytes.size());
    bytes[at] ^= static_cast<std::uint8_t>(*rc::gen::inRange(1, 256));
    const Status detected = Engine::detect_corruption(bytes, kSimUser);
    RC_ASSERT(!detected.ok());
    RC_ASSERT(!Engine::restore(bytes, kSimUser, EngineConfig()).ok());

    Engine fresh = std::move(Engine::create(kSimUser, "sim-2", 3, EngineConfig()).value());
    fresh.report_corruption(detected.message());
    const json answer{{"state", sim.server.row("sim-2", sim.true_time)}, {"serverTime", sim.true_time}};
    RC_ASSERT(fresh.recover_from_server(answer.dump(), "sim-2", sim.wall, 0).ok());
    RC_ASSERT(fresh.state().synced_total == sim.server.total);
    RC_ASSERT(fresh.state().current_earnings == sim.server.total);
    RC_ASSERT(validate_recovered_data(fresh.state()).ok);
    RC_ASSERT(fresh.metrics().counters().corruption_detected == 1u);
    sim.engine = std::move(fresh);
    sim.engine.set_rate("36.00000000");
    sim.engine.set_active(true, sim.wall, 0);
    sim.mono = 0;
    sim.advance(*rc::gen::inRange<std::int64_t>(1, 100000));
    const Units before = sim.server.total;
    sim.tick();
    sim.drain();
    RC_ASSERT(sim.server.total > before);
    RC_ASSERT(sim.engine.state().current_earnings == sim.server.total);
  }, kCases);
}
