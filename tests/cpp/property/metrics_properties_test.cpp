#include <rapidcheck.h>

#include <catch2/catch.hpp>

#include <algorithm>
#include <vector>

#include "leaf_property.h"
#include "metrics.h"

using namespace earnings;
using earnings_test::deterministic_prop;

namespace {

// The straightforward model the KPIs must agree with.
struct Model {
  std::uint64_t attempts = 0, successes = 0, failures = 0, retries = 0, conflicts = 0;
  std::uint64_t failures_by_kind[kSyncFailureKinds] = {};
  std::uint64_t outcomes[5] = {};
  std::uint64_t queue_max = 0, queue = 0;
  std::int64_t offline = 0;
  std::vector<std::int64_t> latencies;  // all of them, in order
};

std::int64_t nearest_rank(std::vector<std::int64_t> window, int percent) {
  std::sort(window.begin(), window.end());
  std::size_t rank = 1;
  while (rank * 100 < percent * window.size()) ++rank;
  return window[rank - 1];
}

}  // namespace

TEST_CASE("Property 29: every sync attempt's timing and outcome is counted", "[metrics][property]") {
  deterministic_prop("counters equal the events recorded", [] {
    const auto window = *rc::gen::inRange<std::size_t>(1, 40);
    Metrics metrics(window);
    Model model;
    const auto steps = *rc::gen::inRange(0, 120);
    for (int step = 0; step < steps; ++step) {
      switch (*rc::gen::inRange(0, 8)) {
        case 0:
          metrics.record_sync_attempt();
          ++model.attempts;
          break;
        case 1: {
          const auto latency = *rc::gen::inRange<std::int64_t>(0, 120000);
          metrics.record_sync_success(latency);
          ++model.successes;
          model.latencies.push_back(latency);
          break;
        }
        case 2: {
          const auto kind = *rc::gen::inRange<std::size_t>(0, kSyncFailureKinds);
          metrics.record_sync_failure(static_cast<SyncFailureKind>(kind));
          ++model.failures;
          ++model.failures_by_kind[kind];
          break;
        }
        case 3:
          metrics.record_retry();
          ++model.retries;
          break;
        case 4: {
          const auto outcome = *rc::gen::inRange(0, 5);
          metrics.record_op_outcome(static_cast<OpOutcome>(outcome));
          ++model.outcomes[outcome];
          break;
        }
        case 5: {
          const auto depth = *rc::gen::inRange<std::uint64_t>(0, 500);
          metrics.set_queue_depth(depth);
          model.queue = depth;
          model.queue_max = std::max(model.queue_max, depth);
          break;
        }
        case 6: {
          const auto ms = *rc::gen::inRange<std::int64_t>(0, 86400000);
          metrics.add_offline_ms(ms);
          model.offline += ms;
          break;
        }
        default:
          metrics.record_conflict();
          ++model.conflicts;
          break;
      }
    }
    const MetricsCounters& c = metrics.counters();
    RC_ASSERT(c.sync_attempts == model.attempts);
    RC_ASSERT(c.sync_successes == model.successes);
    RC_ASSERT(c.sync_failures_total() == model.failures);
    for (std::size_t k = 0; k < kSyncFailureKinds; ++k) RC_ASSERT(c.sync_failures[k] == model.failures_by_kind[k]);
    RC_ASSERT(c.retries == model.retries);
    RC_ASSERT(c.conflicts == model.conflicts);
    RC_ASSERT(c.ops_applied == model.outcomes[0]);
    RC_ASSERT(c.ops_duplicate == model.outcomes[1]);
    RC_ASSERT(c.ops_rejected == model.outcomes[2]);
    RC_ASSERT(c.ops_review == model.outcomes[3]);
    RC_ASSERT(c.ops_gap == model.outcomes[4]);
    RC_ASSERT(c.queue_depth == model.queue);
    RC_ASSERT(c.queue_depth_max == model.queue_max);
    RC_ASSERT(c.offline_ms == model.offline);
    RC_ASSERT(c.latency_count == model.latencies.size());
    const std::size_t kept = std::min(window, model.latencies.size());
    RC_ASSERT(std::vector<std::int64_t>(metrics.latency_window().begin(), metrics.latency_window().end()) ==
              std::vector<std::int64_t>(model.latencies.end() - static_cast<std::ptrdiff_t>(kept),
                                        model.latencies.end()));
    const Document stored = Document::from_bytes(metrics.to_document(), ErrorCode::kRecordCorrupt).value();
    const auto restored = Metrics::from_document(stored.root());
    RC_ASSERT(restored.ok());
    RC_ASSERT(restored.value().counters() == c);
    RC_ASSERT(restored.value().to_document().bytes() == metrics.to_document().bytes());
  });
}

TEST_CASE("Property 32: KPIs are computed exactly", "[metrics][property]") {
  deterministic_prop("success rate, percentiles, mean and earnings at risk", [] {
    const auto window = *rc::gen::inRange<std::size_t>(1, 50);
    Metrics metrics(window);
    const auto latencies = *rc::gen::container<std::vector<std::int64_t>>(rc::gen::inRange<std::int64_t>(0, 600000));
    for (std::int64_t latency : latencies) metrics.record_sync_success(latency);
    const auto failures = *rc::gen::inRange<std::uint64_t>(0, 50);
    for (std::uint64_t k = 0; k < failures; ++k) metrics.record_sync_failure(SyncFailureKind::kNetwork);
    const auto unsynced = *rc::gen::inRange<Units>(0, kMaxUnits);
    const Kpis kpis = metrics.kpis(unsynced);

    const std::uint64_t completed = latencies.size() + failures;
    RC_ASSERT(kpis.success_rate_permille ==
              (completed == 0 ? 1000 : static_cast<std::int64_t>(latencies.size() * 1000 / completed)));
    RC_ASSERT(kpis.success_rate_permille >= 0);
    RC_ASSERT(kpis.success_rate_permille <= 1000);
    RC_ASSERT(kpis.earnings_at_risk == unsynced);
    const std::size_t kept = std::min(window, latencies.size());
    RC_ASSERT(kpis.latency_samples == kept);
    if (kept == 0) {
      RC_ASSERT(kpis.latency_p50_ms == 0);
      RC_ASSERT(kpis.latency_mean_ms == 0);
    } else {
      const std::vector<std::int64_t> recent(latencies.end() - static_cast<std::ptrdiff_t>(kept), latencies.end());
      std::int64_t sum = 0;
      for (std::int64_t l : recent) sum += l;
      RC_ASSERT(kpis.latency_p50_ms == nearest_rank(recent, 50));
      RC_ASSERT(kpis.latency_p95_ms == nearest_rank(recent, 95));
      RC_ASSERT(kpis.latency_mean_ms == sum / static_cast<std::int64_t>(kept));
      RC_ASSERT(kpis.latency_p50_ms <= kpis.latency_p95_ms);
    }
  });
}
