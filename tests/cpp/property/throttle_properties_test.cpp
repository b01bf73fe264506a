#include <rapidcheck.h>

#include <catch2/catch.hpp>

#include <optional>
#include <vector>

#include "leaf_property.h"
#include "throttle.h"

using namespace earnings;
using earnings_test::deterministic_prop;

TEST_CASE("Property 20: the UI hears at most one update per second and always the last one",
          "[throttle][property]") {
  deterministic_prop("rapid updates against a simulated timer", [] {
    UiThrottle throttle;
    const auto gaps = *rc::gen::container<std::vector<std::int64_t>>(
        rc::gen::weightedOneOf<std::int64_t>({{6, rc::gen::inRange<std::int64_t>(0, 50)},
                                              {3, rc::gen::inRange<std::int64_t>(50, 1200)},
                                              {1, rc::gen::inRange<std::int64_t>(1200, 5000)}}));
    std::int64_t now = *rc::gen::inRange<std::int64_t>(0, 100000);
    std::optional<std::int64_t> timer;  // when the armed timer goes off
    std::vector<std::int64_t> emissions;
    std::vector<std::int64_t> offers;
    auto run_timer_until = [&](std::int64_t until) {
      while (timer && *timer <= until) {
        const std::int64_t at = *timer;
        timer.reset();
        if (throttle.fire(at)) {
          emissions.push_back(at);
        } else if (throttle.pending()) {
          timer = at + throttle.delay_until_due(at);
        }
      }
    };
    for (std::int64_t gap : gaps) {
      now += gap;
      run_timer_until(now);
      offers.push_back(now);
      const ThrottleDecision decision = throttle.offer(now);
      if (decision.emit_now) {
        emissions.push_back(now);
      } else {
        RC_ASSERT(decision.delay_ms > 0);
        RC_ASSERT(decision.delay_ms <= kUiThrottleIntervalMs);
        timer = now + decision.delay_ms;
      }
    }
    run_timer_until(now + 10 * kUiThrottleIntervalMs);
    RC_ASSERT(!throttle.pending());
    for (std::size_t k = 1; k < emissions.size(); ++k) {
      RC_ASSERT(emissions[k] - emissions[k - 1] >= kUiThrottleIntervalMs);
    }
    // Every update is shown within a second, by its own emission or a later one.
    std::size_t next = 0;
    for (std::int64_t offer : offers) {
      while (next < emissions.size() && emissions[next] < offer) ++next;
      RC_ASSERT(next < emissions.size());
      RC_ASSERT(emissions[next] - offer <= kUiThrottleIntervalMs);
    }
    RC_ASSERT(emissions.size() <= offers.size());
  });
}
