// Sync and integrity metrics for one user's engine (Properties 29, 32). Plain counters plus a
// bounded window of recent sync latencies; every KPI is computed exactly in integers (per-mille,
// nearest-rank percentiles, floor of the mean) so the same history gives the same numbers in
// native code, in wasm and in tests. No clock is read: callers pass measured durations.
#pragma once

#include <cstddef>
#include <cstdint>
#include <vector>


#include "amount.h"
#include "document.h"
#include "status.h"

namespace earnings {

// Why a sync attempt failed; decides nothing, only counts.
enum class SyncFailureKind {
  kNetwork,          // fetch rejected, offline
  kTimeout,          // 408 or client-side timeout
  kServer,           // 5xx
  kRateLimited,      // 429
  kRejected,         // other 4xx: permanent for the batch
  kResponseInvalid,  // a 200 whose body does not match what was sent
};
constexpr std::size_t kSyncFailureKinds = 6;

// "network" | "timeout" | "server" | "rate_limited" | "rejected" | "response_invalid"
const char* to_string(SyncFailureKind kind);

// Per-op outcomes as the server reports them (DESIGN.md sync protocol `status`).
enum class OpOutcome { kApplied, kDuplicate, kRejected, kReview, kGap };

struct MetricsCounters {
  std::uint64_t sync_attempts = 0;
  std::uint64_t sync_successes = 0;
  std::uint64_t sync_failures[kSyncFailureKinds] = {};
  std::uint64_t retries = 0;
  std::uint64_t ops_sent = 0;
  std::uint64_t ops_applied = 0;
  std::uint64_t ops_duplicate = 0;
  std::uint64_t ops_rejected = 0;
  std::uint64_t ops_review = 0;
  std::uint64_t ops_gap = 0;
  std::uint64_t conflicts = 0;
  std::uint64_t corruption_detected = 0;
  std::uint64_t clock_jumps = 0;
  std::int64_t offline_ms = 0;
  std::uint64_t queue_depth = 0;
  std::uint64_t queue_depth_max = 0;
  std::uint64_t latency_count = 0;     // all samples ever recorded
  std::int64_t latency_total_ms = 0;   // saturating sum of all samples

  std::uint64_t sync_failures_total() const;
};

bool operator==(const MetricsCounters& a, const MetricsCounters& b);

struct Kpis {
  // successes * 1000 / (successes + failures), floor; 1000 when no attempt has completed.
  std::int64_t success_rate_permille = 1000;
  // Nearest-rank percentiles and floor of the mean over the latency window; 0 when empty.
  std::int64_t latency_p50_ms = 0;
  std::int64_t latency_p95_ms = 0;
  std::int64_t latency_mean_ms = 0;
  std::size_t latency_samples = 0;  // samples in the window
  // Earnings accepted locally but not yet acknowledged by the server (the caller's figure).
  Units earnings_at_risk = 0;
  std::uint64_t queue_depth = 0;
  std::uint64_t queue_depth_max = 0;
};

constexpr std::size_t kDefaultLatencyWindow = 128;

class Metrics {
 public:
  // REQUIRES: latency_window >= 1.
  explicit Metrics(std::size_t latency_window = kDefaultLatencyWindow);

  void record_sync_attempt();
  // Negative latencies (a misbehaving caller) count as 0.
  void record_sync_success(std::int64_t latency_ms);
  void record_sync_failure(SyncFailureKind kind);
  void record_retry();
  void record_ops_sent(std::uint64_t count);
  void record_op_outcome(OpOutcome outcome);
  void record_conflict();
  void record_corruption();
  void record_clock_jump();
  void add_offline_ms(std::int64_t ms);  // negative ignored; saturating
  void set_queue_depth(std::uint64_t depth);

  const MetricsCounters& counters() const { return counters_; }
  const std::vector<std::int64_t>& latency_window() const { return latencies_; }
  std::size_t latency_window_capacity() const { return window_; }

  // REQUIRES: unsynced_units >= 0 (negative is clamped to 0).
  Kpis kpis(Units unsynced_units) const;

  // {"counters":{...},"latencyWindow":n,"latencies":[...]}, open for the caller to add to.
  Fields to_document() const;
  // Validates every field (non-negative safe integers, window size); kRecordCorrupt on failure.
  static Result<Metrics> from_document(const Node& value);

 private:
  void record_latency(std::int64_t latency_ms);

  std::size_t window_;
  MetricsCounters counters_;
  std::vector<std::int64_t> latencies_;  // oldest first
};

// {"successRatePermille","latencyP50Ms","latencyP95Ms","latencyMeanMs","latencySamples",
//  "earningsAtRisk" (decimal string),"queueDepth","queueDepthMax"}
Bytes kpis_to_document(const Kpis& kpis);

}  // namespace earnings
