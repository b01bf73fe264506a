#include <catch2/catch.hpp>

#include "backoff.h"
#include "documents.h"

namespace earnings {
namespace {

TEST_CASE("SeededRandom") {
  SECTION("splitmix64 reference values for seed 0") {
    SeededRandom r(0);
    CHECK(r.next() == 0xE220A8397B1DCDAFULL);
    CHECK(r.next() == 0x6E789E6AA1B965F4ULL);
  }
  SECTION("same seed, same sequence; the state resumes it") {
    SeededRandom a(42), b(42);
    CHECK(a.next() == b.next());
    SeededRandom c(a.state());
    CHECK(c.next() == a.next());
  }
  SECTION("uniform_inclusive stays within bounds and reaches both ends") {
    SeededRandom r(7);
    bool saw_zero = false, saw_top = false;
    for (int i = 0; i < 2000; ++i) {
      const std::int64_t v = r.uniform_inclusive(3);
      REQUIRE(v >= 0);
      REQUIRE(v <= 3);
      saw_zero |= v == 0;
      saw_top |= v == 3;
    }
    CHECK(saw_zero);
    CHECK(saw_top);
    CHECK(r.uniform_inclusive(0) == 0);
  }
}

TEST_CASE("backoff_ceiling") {
  const BackoffPolicy p{1000, 60000, 8};
  CHECK(backoff_ceiling(p, 0) == 1000);
  CHECK(backoff_ceiling(p, 1) == 2000);
  CHECK(backoff_ceiling(p, 5) == 32000);
  CHECK(backoff_ceiling(p, 6) == 60000);
  CHECK(backoff_ceiling(p, 1000000) == 60000);
  CHECK(backoff_ceiling(BackoffPolicy{3, INT64_MAX, 8}, 200) == INT64_MAX);
}

TEST_CASE("Backoff") {
  const BackoffPolicy p{1000, 60000, 3};
  SeededRandom r(1);
  Backoff b;
  SECTION("each failure waits within its ceiling, then failed after maxRetries, still retrying") {
    for (int attempt = 0; attempt < 10; ++attempt) {
      const std::int64_t now = 10000 * attempt;
      const std::int64_t delay = b.on_failure(p, now, r);
      CHECK(delay >= 0);
      CHECK(delay <= backoff_ceiling(p, attempt));
      CHECK(b.next_retry_at() == now + delay);
      CHECK(b.waiting());
      CHECK(b.failed(p) == (attempt + 1 >= 3));
    }
  }
  SECTION("ms_until_retry counts down to 0") {
    const std::int64_t delay = b.on_failure(BackoffPolicy{1000, 1000, 3}, 500, r);
    CHECK(b.ms_until_retry(500) == delay);
    CHECK(b.ms_until_retry(500 + delay) == 0);
  }
  SECTION("reset after success; release keeps the count") {
    b.on_failure(p, 0, r);
    b.on_failure(p, 0, r);
    b.release(5);
    CHECK_FALSE(b.waiting());
    CHECK(b.failures() == 2);
    CHECK(b.ms_until_retry(0) == 0);
    b.reset();
    CHECK(b.failures() == 0);
  }
  SECTION("document round trip and corrupt input") {
    b.on_failure(p, 100, r);
    auto back = test_documents::read(Backoff::from_document, test_documents::to_json(b.to_document()));
    REQUIRE(back.ok());
    CHECK(back.value().failures() == 1);
    CHECK(back.value().next_retry_at() == b.next_retry_at());
    nlohmann::json bad = test_documents::to_json(b.to_document());
    bad["failures"] = -1;
    CHECK(test_documents::read(Backoff::from_document, bad).status().code() == ErrorCode::kRecordCorrupt);
    CHECK(test_documents::read(Backoff::from_document, nlohmann::json(3)).status().code() ==
          ErrorCode::kRecordCorrupt);
  }
}

}  // namespace
}  // namespace earnings
