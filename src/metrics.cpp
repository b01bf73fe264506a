#include "metrics.h"

#include <algorithm>
#include <type_traits>
#include <vector>

#include "heap_sort.h"
#include "json_fields.h"

namespace earnings {
namespace {

constexpr const char* kFailureKeys[kSyncFailureKinds] = {
    "network", "timeout", "server", "rate_limited", "rejected", "response_invalid"};

// The counters as (key, member) pairs so that to_document and from_document cannot drift apart.
template <typename Counters, typename Visit>
void for_each_counter(Counters& c, Visit visit) {
  visit("syncAttempts", c.sync_attempts);
  visit("syncSuccesses", c.sync_successes);
  visit("retries", c.retries);
  visit("opsSent", c.ops_sent);
  visit("opsApplied", c.ops_applied);
  visit("opsDuplicate", c.ops_duplicate);
  visit("opsRejected", c.ops_rejected);
  visit("opsReview", c.ops_review);
  visit("opsGap", c.ops_gap);
  visit("conflicts", c.conflicts);
  visit("corruptionDetected", c.corruption_detected);
  visit("clockJumps", c.clock_jumps);
  visit("offlineMs", c.offline_ms);
  visit("queueDepth", c.queue_depth);
  visit("queueDepthMax", c.queue_depth_max);
  visit("latencyCount", c.latency_count);
  visit("latencyTotalMs", c.latency_total_ms);
}

// Counters saturate at 2^53 - 1 so that they stay exact as JS numbers forever.
void bump(std::uint64_t& counter, std::uint64_t by = 1) {
  const auto cap = static_cast<std::uint64_t>(json_fields::kMaxSafeInteger);
  counter = (counter > cap - std::min(by, cap)) ? cap : counter + by;
}

void bump(std::int64_t& counter, std::int64_t by) {
  if (by <= 0) return;
  counter = (counter > json_fields::kMaxSafeInteger - by) ? json_fields::kMaxSafeInteger
                                                           : counter + by;
}

Status corrupt(const std::string& what) {
  return Status(ErrorCode::kRecordCorrupt, "metrics: " + what);
}

// Nearest-rank percentile: the smallest sample with at least p% of samples at or below it.
std::int64_t percentile(const std::vector<std::int64_t>& sorted, std::int64_t p) {
  const auto n = static_cast<std::int64_t>(sorted.size());
  const std::int64_t rank = (p * n + 99) / 100;
  return sorted[static_cast<std::size_t>(std::max<std::int64_t>(rank, 1) - 1)];
}

std::vector<std::int64_t> counter_values(const MetricsCounters& counters) {
  std::vector<std::int64_t> values;
  for_each_counter(counters, [&](const char*, const auto& v) {
    values.push_back(static_cast<std::int64_t>(v));
  });
  for (std::uint64_t count : counters.sync_failures) values.push_back(static_cast<std::int64_t>(count));
  return values;
}

}  // namespace

const char* to_string(SyncFailureKind kind) { return kFailureKeys[static_cast<std::size_t>(kind)]; }

std::uint64_t MetricsCounters::sync_failures_total() const {
  std::uint64_t total = 0;
  for (std::uint64_t count : sync_failures) bump(total, count);
  return total;
}

bool operator==(const MetricsCounters& a, const MetricsCounters& b) {
  return counter_values(a) == counter_values(b);
}

Metrics::Metrics(std::size_t latency_window) : window_(latency_window == 0 ? 1 : latency_window) {}

void Metrics::record_sync_attempt() { bump(counters_.sync_attempts); }

void Metrics::record_sync_success(std::int64_t latency_ms) {
  bump(counters_.sync_successes);
  record_latency(latency_ms);
}

void Metrics::record_sync_failure(SyncFailureKind kind) {
  bump(counters_.sync_failures[static_cast<std::size_t>(kind)]);
}

void Metrics::record_retry() { bump(counters_.retries); }

void Metrics::record_ops_sent(std::uint64_t count) { bump(counters_.ops_sent, count); }

void Metrics::record_op_outcome(OpOutcome outcome) {
  switch (outcome) {
    case OpOutcome::kApplied:
      bump(counters_.ops_applied);
      break;
    case OpOutcome::kDuplicate:
      bump(counters_.ops_duplicate);
      break;
    case OpOutcome::kRejected:
      bump(counters_.ops_rejected);
      break;
    case OpOutcome::kReview:
      bump(counters_.ops_review);
      break;
    case OpOutcome::kGap:
      bump(counters_.ops_gap);
      break;
  }
}

void Metrics::record_conflict() { bump(counters_.conflicts); }

void Metrics::record_corruption() { bump(counters_.corruption_detected); }

void Metrics::record_clock_jump() { bump(counters_.clock_jumps); }

void Metrics::add_offline_ms(std::int64_t ms) { bump(counters_.offline_ms, ms); }

void Metrics::set_queue_depth(std::uint64_t depth) {
  const auto cap = static_cast<std::uint64_t>(json_fields::kMaxSafeInteger);
  counters_.queue_depth = std::min(depth, cap);
  counters_.queue_depth_max = std::max(counters_.queue_depth_max, counters_.queue_depth);
}

void Metrics::record_latency(std::int64_t latency_ms) {
  const std::int64_t sample =
      std::min(std::max<std::int64_t>(latency_ms, 0), json_fields::kMaxSafeInteger);
  bump(counters_.latency_count);
  bump(counters_.latency_total_ms, sample);
  if (latencies_.size() >= window_) latencies_.erase(latencies_.begin());
  latencies_.push_back(sample);
}

Kpis Metrics::kpis(Units unsynced_units) const {
  Kpis out;
  const std::uint64_t completed = counters_.sync_successes + counters_.sync_failures_total();
  if (completed > 0) {
    out.success_rate_permille = static_cast<std::int64_t>(
        static_cast<unsigned __int128>(counters_.sync_successes) * 1000 / completed);
  }
  out.latency_samples = latencies_.size();
  if (!latencies_.empty()) {
    std::vector<std::int64_t> sorted = latencies_;
    heap_sort(sorted.begin(), sorted.end(), [](std::int64_t a, std::int64_t b) { return a < b; });
    out.latency_p50_ms = percentile(sorted, 50);
    out.latency_p95_ms = percentile(sorted, 95);
    __int128 sum = 0;
    for (std::int64_t sample : sorted) sum += sample;
    out.latency_mean_ms = static_cast<std::int64_t>(sum / static_cast<__int128>(sorted.size()));
  }
  out.earnings_at_risk = std::max<Units>(unsynced_units, 0);
  out.queue_depth = counters_.queue_depth;
  out.queue_depth_max = counters_.queue_depth_max;
  return out;
}

Fields Metrics::to_document() const {
  Fields counters;
  for_each_counter(counters_, [&](const char* key, const auto& v) { counters.add(key, v); });
  Fields failures;
  for (std::size_t k = 0; k < kSyncFailureKinds; ++k) failures.add(kFailureKeys[k], counters_.sync_failures[k]);
  counters.add("syncFailures", failures);
  DocumentWriter latencies;
  latencies.begin_array();
  for (std::int64_t sample : latencies_) latencies.value(sample);
  latencies.end();
  Fields out;
  out.add("counters", counters).add("latencyWindow", window_).add("latencies", latencies.take());
  return out;
}

Result<Metrics> Metrics::from_document(const Node& value) {
  if (!value.is_map()) return corrupt("must be an object");
  std::int64_t window = 0;
  FieldReader read(value, ErrorCode::kRecordCorrupt);
  read.integer("latencyWindow", 1, 100000, &window);
  if (!read.ok()) return corrupt(read.status().message());
  const Node counters = value.find("counters");
  if (!counters.is_map()) return corrupt("counters must be an object");
  Metrics metrics(static_cast<std::size_t>(window));
  FieldReader counter(counters, ErrorCode::kRecordCorrupt);
  for_each_counter(metrics.counters_, [&](const char* key, auto& v) {
    std::int64_t count = 0;
    counter.integer(key, 0, &count);
    v = static_cast<std::remove_reference_t<decltype(v)>>(count);
  });
  const Node failures = counters.find("syncFailures");
  if (!failures.is_map()) return corrupt("syncFailures must be an object");
  FieldReader failure(failures, ErrorCode::kRecordCorrupt);
  for (std::size_t k = 0; k < kSyncFailureKinds; ++k) {
    std::int64_t count = 0;
    failure.integer(kFailureKeys[k], 0, &count);
    metrics.counters_.sync_failures[k] = static_cast<std::uint64_t>(count);
  }
  if (!counter.ok()) return corrupt(counter.status().message());
  if (!failure.ok()) return corrupt(failure.status().message());
  if (metrics.counters_.queue_depth > metrics.counters_.queue_depth_max) {
    return corrupt("queueDepth above queueDepthMax");
  }
  const Node latencies = value.find("latencies");
  if (!latencies.is_array()) return corrupt("latencies must be an array");
  if (latencies.size() > metrics.window_) return corrupt("more latencies than the window");
  for (Node sample : latencies.elements()) {
    auto read = json_fields::safe_integer_value(sample, "latency", 0);
    if (!read.ok()) return corrupt(read.status().message());
    metrics.latencies_.push_back(read.value());
  }
  return metrics;
}

Bytes kpis_to_document(const Kpis& kpis) {
  return Fields()
      .add("successRatePermille", kpis.success_rate_permille)
      .add("latencyP50Ms", kpis.latency_p50_ms)
      .add("latencyP95Ms", kpis.latency_p95_ms)
      .add("latencyMeanMs", kpis.latency_mean_ms)
      .add("latencySamples", kpis.latency_samples)
      .amount("earningsAtRisk", kpis.earnings_at_risk)
      .add("queueDepth", kpis.queue_depth)
      .add("queueDepthMax", kpis.queue_depth_max)
      .bytes();
}

}  // namespace earnings
