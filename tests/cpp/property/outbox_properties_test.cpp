#include <rapidcheck.h>

#include <catch2/catch.hpp>

#include "backoff.h"
#include "engine_sim.h"
#include "leaf_property.h"

using namespace earnings;
using namespace earnings_test;

TEST_CASE("Property 3: retry exponential backoff - full jitter under a doubling, capped ceiling") {
  deterministic_prop("each consecutive failure waits in [0, min(cap, base*2^n)], reset by a success", [] {
    EngineConfig config;
    config.backoff_base_ms = *rc::gen::inRange<std::int64_t>(1, 5000);
    config.backoff_cap_ms = *rc::gen::inRange<std::int64_t>(config.backoff_base_ms, 600000);
    Sim sim(sim_engine(config, "36.00000000", *rc::gen::arbitrary<std::uint64_t>()));
    const BackoffPolicy policy{config.backoff_base_ms, config.backoff_cap_ms, config.max_retries};
    std::int64_t attempt = 0;
    const int steps = *rc::gen::inRange(1, 40);
    for (int i = 0; i < steps; ++i) {
      sim.advance(*rc::gen::inRange<std::int64_t>(1, 10000));
      sim.tick();
      if (*rc::gen::inRange(0, 4) == 0) {
        RC_ASSERT(sim.sync(NetworkOutcome::kDelivered));
        attempt = 0;
        RC_ASSERT(!sim.engine.backoff().waiting());
        continue;
      }
      const std::string request = sim.engine.next_sync_request(sim.wall, sim.mono, true).value();
      RC_ASSERT(!request.empty());
      const json failure = json::parse(sim.engine.apply_sync_failure(503, sim.wall, sim.mono).value());
      const std::int64_t wait = failure["retryInMs"];
      RC_ASSERT(wait >= 0);
      RC_ASSERT(wait <= backoff_ceiling(policy, attempt));
      RC_ASSERT(sim.engine.sync_due_in_ms(sim.wall, sim.mono).value() == wait);
      RC_ASSERT(sim.engine.next_sync_request(sim.wall, sim.mono, false).value().empty() == (wait > 0));
      ++attempt;
    }
  }, kCases);
  deterministic_prop("the ceiling doubles until the cap and the draws use the whole range", [] {
    const BackoffPolicy policy{*rc::gen::inRange<std::int64_t>(1, 1000), 0, 8};
    const BackoffPolicy capped{policy.base_ms, policy.base_ms * *rc::gen::inRange<std::int64_t>(1, 100), 8};
    for (std::int64_t n = 0; n < 70; ++n) {
      const std::int64_t ceiling = backoff_ceiling(capped, n);
      RC_ASSERT(ceiling <= capped.cap_ms);
      if (n > 0) RC_ASSERT(ceiling == std::min(capped.cap_ms, backoff_ceiling(capped, n - 1) * 2));
    }
    SeededRandom random(*rc::gen::arbitrary<std::uint64_t>());
    const std::int64_t bound = *rc::gen::inRange<std::int64_t>(16, 1000000);
    bool low = false, high = false;
    for (int i = 0; i < 200; ++i) {
      const std::int64_t draw = random.uniform_inclusive(bound);
      RC_ASSERT(draw >= 0);
      RC_ASSERT(draw <= bound);
      low = low || draw < bound / 4;
      high = high || draw > bound - bound / 4;
    }
    RC_ASSERT(low);
    RC_ASSERT(high);
  }, kCases);
  deterministic_prop("the jitter sequence is reproducible and survives a reload", [] {
    const std::uint64_t seed = *rc::gen::arbitrary<std::uint64_t>();
    Sim a(sim_engine(EngineConfig(), "36.00000000", seed));
    Sim b(sim_engine(EngineConfig(), "36.00000000", seed));
    const int failures = *rc::gen::inRange(1, 12);
    for (int i = 0; i < failures; ++i) {
      a.advance(1000);
      b.advance(1000);
      a.tick();
      b.tick();
      if (i == failures / 2) b.reload(0);
      a.engine.next_sync_request(a.wall, a.mono, true);
      b.engine.next_sync_request(b.wall, b.mono, true);
      RC_ASSERT(a.engine.apply_sync_failure(0, a.wall, a.mono).value() ==
                b.engine.apply_sync_failure(0, b.wall, b.mono).value());
    }
  }, kCases);
}

TEST_CASE("Property 21: database operation batching - owed ops go out in as few requests as allowed") {
  deterministic_prop("n owed ops take ceil(n / maxBatch) requests of consecutive seqs", [] {
    EngineConfig config;
    config.max_batch = *rc::gen::inRange<std::int64_t>(1, 12);
    Sim sim(sim_engine(config));
    const int segments = *rc::gen::inRange(1, 40);
    for (int i = 0; i < segments; ++i) {
      // Every rate change seals the earnings accrued at the previous rate into an op of its own.
      sim.engine.set_rate(format_amount(100000000 + i));
      sim.advance(*rc::gen::inRange<std::int64_t>(1000, 100000));
      sim.tick();
    }
    const std::size_t owed = sim.engine.outbox().depth();
    const Units pending = sim.engine.state().pending;
    std::size_t requests = 0;
    std::int64_t next_seq = 1;
    while (!sim.engine.outbox().empty()) {
      const std::string request = sim.engine.next_sync_request(sim.wall, sim.mono, false).value();
      RC_ASSERT(!request.empty());
      const json ops = json::parse(request)["ops"];
      RC_ASSERT(ops.size() <= static_cast<std::size_t>(config.max_batch));
      for (const json& op : ops) RC_ASSERT(op["seq"].get<std::int64_t>() == next_seq++);
      sim.engine.apply_sync_response(sim.server.handle(request, sim.true_time).dump(), sim.wall, sim.mono);
      ++requests;
      RC_ASSERT(requests <= owed);
    }
    RC_ASSERT(static_cast<std::int64_t>(owed) == segments);
    RC_ASSERT(requests == (owed + config.max_batch - 1) / config.max_batch);
    RC_ASSERT(sim.server.total == pending);
  }, kCases);
}

TEST_CASE("Property 19: audit log completeness - every accrual and sync is in the audit trail") {
  deterministic_prop("accrual entries add up to what was mined; each attempt has a request and an outcome", [] {
    EngineConfig config;
    config.audit_capacity = 100000;
    Sim sim(sim_engine(config));
    int attempts = 0;
    const int steps = *rc::gen::inRange(1, 60);
    for (int i = 0; i < steps; ++i) {
      sim.advance(*rc::gen::inRange<std::int64_t>(0, 100000));
      sim.tick();
      if (*rc::gen::inRange(0, 3) == 0) {
        const auto outcome = static_cast<NetworkOutcome>(*rc::gen::inRange(0, 5));
        if (sim.sync(outcome)) ++attempts;
      }
    }
    const json audit = json::parse(sim.engine.audit_json());
    Units credited = 0;
    int requests = 0, outcomes = 0;
    for (const json& entry : audit) {
      const std::string op = entry["operationType"];
      if (op == "accrual") credited += parse_amount(entry["metadata"]["credited"].get<std::string>()).value();
      if (op == "sync_request") ++requests;
      if (op == "sync_applied" || op == "sync_failed") ++outcomes;
      RC_ASSERT(entry["userId"] == kSimUser);
    }
    RC_ASSERT(credited == exact_accrual(3600000000, sim.true_time - kSimStart));
    RC_ASSERT(requests == attempts);
    RC_ASSERT(outcomes == attempts);
  }, kCases);
}

TEST_CASE("Property 29: sync metrics logging - attempts, outcomes, retries and latency are counted") {
  deterministic_prop("counters match what the network did; latency is answer time minus request time", [] {
    Sim sim(sim_engine());
    std::uint64_t attempts = 0, successes = 0, failures = 0;
    std::int64_t last_latency = -1;
    const int steps = *rc::gen::inRange(1, 40);
    for (int i = 0; i < steps; ++i) {
      sim.advance(*rc::gen::inRange<std::int64_t>(1, 30000));
      sim.tick();
      const std::string request = sim.engine.next_sync_request(sim.wall, sim.mono, true).value();
      if (request.empty()) continue;
      ++attempts;
      const std::int64_t latency = *rc::gen::inRange<std::int64_t>(0, 5000);
      sim.advance(latency);
      if (*rc::gen::arbitrary<bool>()) {
        const json answer = sim.server.handle(request, sim.true_time);
        RC_ASSERT(sim.engine.apply_sync_response(answer.dump(), sim.wall, sim.mono).ok());
        ++successes;
        last_latency = latency;
      } else {
        sim.engine.apply_sync_failure(*rc::gen::element<std::int64_t>(0, 500, 503, 408, 429), sim.wall, sim.mono);
        ++failures;
      }
    }
    const MetricsCounters& c = sim.engine.metrics().counters();
    RC_ASSERT(c.sync_attempts == attempts);
    RC_ASSERT(c.sync_successes == successes);
    RC_ASSERT(c.sync_failures_total() == failures);
    if (last_latency >= 0) RC_ASSERT(sim.engine.metrics().latency_window().back() == last_latency);
    RC_ASSERT(c.queue_depth == sim.engine.outbox().depth());
  }, kCases);
}
