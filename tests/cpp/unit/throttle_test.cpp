#include <catch2/catch.hpp>

#include "throttle.h"

using namespace earnings;

TEST_CASE("UI throttle", "[throttle]") {
  UiThrottle throttle;
  SECTION("the first update is shown at once") {
    CHECK(throttle.offer(5000).emit_now);
    CHECK(throttle.last_emission() == std::int64_t{5000});
    CHECK_FALSE(throttle.pending());
  }
  SECTION("updates inside the window wait for one trailing emission") {
    REQUIRE(throttle.offer(5000).emit_now);
    ThrottleDecision second = throttle.offer(5200);
    CHECK_FALSE(second.emit_now);
    CHECK(second.delay_ms == 800);
    ThrottleDecision third = throttle.offer(5900);
    CHECK_FALSE(third.emit_now);
    CHECK(third.delay_ms == 100);
    CHECK(throttle.pending());
    CHECK_FALSE(throttle.fire(5999));
    CHECK(throttle.delay_until_due(5999) == 1);
    CHECK(throttle.fire(6000));
    CHECK(throttle.last_emission() == std::int64_t{6000});
    CHECK_FALSE(throttle.fire(6000));
  }
  SECTION("a timer with nothing pending emits nothing") {
    CHECK_FALSE(throttle.fire(100));
    REQUIRE(throttle.offer(100).emit_now);
    CHECK_FALSE(throttle.fire(5000));
  }
  SECTION("an update after the window emits at once and cancels the trailing one") {
    REQUIRE(throttle.offer(0).emit_now);
    REQUIRE_FALSE(throttle.offer(500).emit_now);
    CHECK(throttle.offer(1000).emit_now);
    CHECK_FALSE(throttle.pending());
    CHECK_FALSE(throttle.fire(1000));
  }
  SECTION("a monotonic clock that restarted (reload) emits at once") {
    REQUIRE(throttle.offer(90000).emit_now);
    CHECK(throttle.offer(10).emit_now);
  }
  SECTION("custom and degenerate intervals") {
    UiThrottle fast(250);
    REQUIRE(fast.offer(0).emit_now);
    CHECK(fast.offer(100).delay_ms == 150);
    CHECK(UiThrottle(0).interval_ms() == 1);
  }
}
