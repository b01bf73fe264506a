#include <rapidcheck.h>

#include <catch2/catch.hpp>

#include "clock_guard.h"
#include "engine_sim.h"
#include "leaf_property.h"

using namespace earnings;
using namespace earnings_test;

TEST_CASE("Property 27: clock change detection - wall clock changes are detected and never pay") {
  deterministic_prop("within a session any wall change is reported and earnings follow mono time", [] {
    Sim sim(sim_engine());
    const std::int64_t tolerance = sim.engine.config().clock_jump_tolerance_ms;
    std::uint64_t jumps = 0;
    const int steps = *rc::gen::inRange(1, 80);
    for (int i = 0; i < steps; ++i) {
      sim.advance(*rc::gen::inRange<std::int64_t>(0, 60000));
      if (*rc::gen::inRange(0, 3) == 0) {
        const std::int64_t change = *rc::gen::inRange<std::int64_t>(-86400000, 86400000);
        if (sim.wall + change >= 0) {
          sim.wall += change;
          if (change > tolerance || change < -tolerance) ++jumps;
        }
      }
      sim.tick();
      RC_ASSERT(sim.engine.metrics().counters().clock_jumps == jumps);
      RC_ASSERT(sim.engine.state().current_earnings == exact_accrual(3600000000, sim.true_time - kSimStart));
    }
  }, kCases);
  deterministic_prop("across reloads a clock moved back never makes earnings negative or repeated", [] {
    Sim sim(sim_engine());
    Units previous = 0;
    const int steps = *rc::gen::inRange(1, 30);
    for (int i = 0; i < steps; ++i) {
      sim.advance(*rc::gen::inRange<std::int64_t>(0, 60000));
      if (*rc::gen::inRange(0, 3) == 0) {
        sim.reload(*rc::gen::inRange<std::int64_t>(0, 600000));
        sim.wall = std::max<std::int64_t>(0, sim.wall - *rc::gen::inRange<std::int64_t>(0, 3600000));
      }
      sim.tick();
      const Units current = sim.engine.state().current_earnings;
      RC_ASSERT(current >= previous);
      RC_ASSERT(current <= exact_accrual(3600000000, sim.true_time - kSimStart));
      previous = current;
    }
  }, kCases);
  deterministic_prop("judge_elapsed is never negative and a session's total is its mono span", [] {
    ClockAnchor anchor;
    std::int64_t mono = *rc::gen::inRange<std::int64_t>(0, 1000000);
    std::int64_t wall = *rc::gen::inRange<std::int64_t>(0, 2000000000000);
    std::int64_t first_mono = -1;
    std::int64_t total = 0;
    const int steps = *rc::gen::inRange(1, 100);
    for (int i = 0; i < steps; ++i) {
      const std::int64_t step = *rc::gen::inRange<std::int64_t>(0, 100000);
      mono += step;
      wall = std::max<std::int64_t>(0, wall + step + *rc::gen::inRange<std::int64_t>(-5000000, 5000000));
      auto judged = judge_elapsed(anchor, ClockReading{wall, mono}, 0, false, 2000, false);
      RC_ASSERT(judged.ok());
      RC_ASSERT(judged.value().elapsed_ms >= 0);
      if (first_mono < 0) first_mono = mono;
      total += judged.value().elapsed_ms;
      anchor = judged.value().anchor;
    }
    RC_ASSERT(total == mono - first_mono);
  }, kCases);
}
