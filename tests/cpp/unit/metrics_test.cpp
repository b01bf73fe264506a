#include <catch2/catch.hpp>

#include "documents.h"
#include "metrics.h"

using namespace earnings;
using nlohmann::json;

TEST_CASE("metrics counters", "[metrics]") {
  Metrics metrics;
  SECTION("sync outcomes by kind") {
    metrics.record_sync_attempt();
    metrics.record_sync_attempt();
    metrics.record_sync_failure(SyncFailureKind::kNetwork);
    metrics.record_sync_failure(SyncFailureKind::kRateLimited);
    metrics.record_sync_success(120);
    CHECK(metrics.counters().sync_attempts == 2);
    CHECK(metrics.counters().sync_successes == 1);
    CHECK(metrics.counters().sync_failures_total() == 2);
    CHECK(metrics.counters().sync_failures[static_cast<int>(SyncFailureKind::kRateLimited)] == 1);
    CHECK(std::string(to_string(SyncFailureKind::kResponseInvalid)) == "response_invalid");
  }
  SECTION("op outcomes, integrity events, offline time") {
    metrics.record_ops_sent(3);
    metrics.record_op_outcome(OpOutcome::kApplied);
    metrics.record_op_outcome(OpOutcome::kDuplicate);
    metrics.record_op_outcome(OpOutcome::kReview);
    metrics.record_op_outcome(OpOutcome::kRejected);
    metrics.record_op_outcome(OpOutcome::kGap);
    metrics.record_conflict();
    metrics.record_corruption();
    metrics.record_clock_jump();
    metrics.record_retry();
    metrics.add_offline_ms(5000);
    metrics.add_offline_ms(-7);
    const MetricsCounters& c = metrics.counters();
    CHECK(c.ops_sent == 3);
    CHECK((c.ops_applied == 1 && c.ops_duplicate == 1 && c.ops_review == 1 && c.ops_rejected == 1 &&
           c.ops_gap == 1));
    CHECK((c.conflicts == 1 && c.corruption_detected == 1 && c.clock_jumps == 1 && c.retries == 1));
    CHECK(c.offline_ms == 5000);
  }
  SECTION("queue depth keeps its maximum") {
    metrics.set_queue_depth(4);
    metrics.set_queue_depth(9);
    metrics.set_queue_depth(2);
    CHECK(metrics.counters().queue_depth == 2);
    CHECK(metrics.counters().queue_depth_max == 9);
  }
  SECTION("counters saturate at 2^53 - 1") {
    metrics.add_offline_ms(9007199254740991);
    metrics.add_offline_ms(10);
    CHECK(metrics.counters().offline_ms == 9007199254740991);
  }
}

TEST_CASE("metrics KPIs are exact integers", "[metrics]") {
  SECTION("nothing recorded") {
    Kpis k = Metrics().kpis(0);
    CHECK(k.success_rate_permille == 1000);
    CHECK(k.latency_samples == 0);
    CHECK(k.latency_p95_ms == 0);
  }
  SECTION("success rate per mille, rounded down") {
    Metrics metrics;
    metrics.record_sync_success(1);
    metrics.record_sync_success(1);
    metrics.record_sync_failure(SyncFailureKind::kServer);
    CHECK(metrics.kpis(0).success_rate_permille == 666);
  }
  SECTION("nearest-rank percentiles and floor of the mean") {
    Metrics metrics;
    for (std::int64_t latency = 1; latency <= 20; ++latency) metrics.record_sync_success(latency * 10);
    Kpis k = metrics.kpis(12345);
    CHECK(k.latency_p50_ms == 100);
    CHECK(k.latency_p95_ms == 190);
    CHECK(k.latency_mean_ms == 105);
    CHECK(k.latency_samples == 20);
    CHECK(k.earnings_at_risk == 12345);
    CHECK(Metrics().kpis(-5).earnings_at_risk == 0);
  }
  SECTION("the latency window is bounded, oldest out first") {
    Metrics metrics(3);
    for (std::int64_t latency : {1000, 1, 2, 3}) metrics.record_sync_success(latency);
    CHECK(metrics.latency_window().size() == 3);
    CHECK(metrics.kpis(0).latency_p95_ms == 3);
    CHECK(metrics.counters().latency_count == 4);
    CHECK(metrics.counters().latency_total_ms == 1006);
  }
  SECTION("KPI document") {
    Metrics metrics;
    metrics.record_sync_success(40);
    metrics.set_queue_depth(2);
    CHECK(test_documents::to_json(kpis_to_document(metrics.kpis(150000000))) == json{{"successRatePermille", 1000},
                                                         {"latencyP50Ms", 40},
                                                         {"latencyP95Ms", 40},
                                                         {"latencyMeanMs", 40},
                                                         {"latencySamples", 1},
                                                         {"earningsAtRisk", "1.50000000"},
                                                         {"queueDepth", 2},
                                                         {"queueDepthMax", 2}});
  }
}

TEST_CASE("metrics document", "[metrics]") {
  Metrics metrics(4);
  metrics.record_sync_attempt();
  metrics.record_sync_success(30);
  metrics.record_sync_failure(SyncFailureKind::kTimeout);
  metrics.set_queue_depth(3);
  metrics.add_offline_ms(60000);
  const json document = test_documents::to_json(metrics.to_document());
  SECTION("shape") {
    CHECK(document["latencyWindow"] == 4);
    CHECK(document["latencies"] == json::array({30}));
    CHECK(document["counters"]["syncFailures"]["timeout"] == 1);
    CHECK(document["counters"]["offlineMs"] == 60000);
  }
  SECTION("invalid documents are corrupt") {
    json bad = document;
    bad["counters"]["retries"] = -1;
    CHECK(test_documents::read(Metrics::from_document, bad).status().code() == ErrorCode::kRecordCorrupt);
    bad = document;
    bad["counters"]["syncFailures"].erase("network");
    CHECK(test_documents::read(Metrics::from_document, bad).status().message().find("network") != std::string::npos);
    bad = document;
    bad["latencies"] = json::array({1, 2, 3, 4, 5});
    CHECK(test_documents::read(Metrics::from_document, bad).status().code() == ErrorCode::kRecordCorrupt);
    bad = document;
    bad["counters"]["queueDepth"] = 10;
    CHECK(test_documents::read(Metrics::from_document, bad).status().code() == ErrorCode::kRecordCorrupt);
    CHECK(test_documents::read(Metrics::from_document, json(5)).status().code() == ErrorCode::kRecordCorrupt);
  }
  SECTION("round trip") {
    Metrics restored = test_documents::read(Metrics::from_document, document).value();
    CHECK(restored.counters() == metrics.counters());
    CHECK(restored.latency_window() == metrics.latency_window());
    CHECK(Bytes(restored.to_document()) == Bytes(metrics.to_document()));
  }
}
