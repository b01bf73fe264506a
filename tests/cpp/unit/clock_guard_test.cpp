#include <catch2/catch.hpp>

#include "clock_guard.h"

namespace earnings {
namespace {

constexpr std::int64_t kTolerance = 2000;

ClockJudgement judge(const ClockAnchor& last, std::int64_t wall, std::int64_t mono, bool new_session = false,
                     std::int64_t offset = 0, bool has_offset = false) {
  auto j = judge_elapsed(last, ClockReading{wall, mono}, offset, has_offset, kTolerance, new_session);
  REQUIRE(j.ok());
  return j.value();
}

TEST_CASE("judge_elapsed") {
  const ClockAnchor last{true, 1000000, 5000};
  SECTION("first observation counts nothing and anchors") {
    const ClockJudgement j = judge(ClockAnchor{}, 1000000, 5000);
    CHECK(j.event == ClockEvent::kFirst);
    CHECK(j.elapsed_ms == 0);
    CHECK(j.anchor.has);
    CHECK(j.anchor.wall == 1000000);
  }
  SECTION("same session: mono delta counts") {
    const ClockJudgement j = judge(last, 1001000, 6000);
    CHECK(j.event == ClockEvent::kNormal);
    CHECK(j.elapsed_ms == 1000);
  }
  SECTION("within tolerance is normal") {
    CHECK(judge(last, 1003000, 6000).event == ClockEvent::kNormal);
    CHECK(judge(last, 999000, 6000).event == ClockEvent::kNormal);
  }
  SECTION("wall jumps forward: reported, mono still counts") {
    const ClockJudgement j = judge(last, 1000000 + 3600000, 6000);
    CHECK(j.event == ClockEvent::kJumpForward);
    CHECK(j.elapsed_ms == 1000);
    CHECK(j.skew_ms == 3599000);
  }
  SECTION("wall jumps back within a session: reported, mono still counts") {
    const ClockJudgement j = judge(last, 1000000 - 500000 + 1000, 6000);
    CHECK(j.event == ClockEvent::kJumpBack);
    CHECK(j.elapsed_ms == 1000);
  }
  SECTION("mono went backwards: a new session counted by wall") {
    const ClockJudgement j = judge(last, 1000000 + 7200000, 10);
    CHECK(j.event == ClockEvent::kNewSession);
    CHECK(j.elapsed_ms == 7200000);
  }
  SECTION("a new session the caller declares is counted by wall even if mono grew") {
    const ClockJudgement j = judge(last, 1000000 + 7200000, 9000, true);
    CHECK(j.event == ClockEvent::kNewSession);
    CHECK(j.elapsed_ms == 7200000);
  }
  SECTION("new session with the clock moved back: nothing counted, re-anchored") {
    const ClockJudgement j = judge(last, 900000, 10, true);
    CHECK(j.event == ClockEvent::kClockBack);
    CHECK(j.elapsed_ms == 0);
    CHECK(j.anchor.wall == 900000);
    CHECK(is_clock_jump(j.event));
  }
  SECTION("a known server offset corrects the wall") {
    const ClockJudgement j = judge(last, 1000000 + 60000 + 500000, 10, true, -500000, true);
    CHECK(j.elapsed_ms == 60000);
    CHECK(j.anchor.wall == 1060000);
  }
  SECTION("invalid readings are TIME_INVALID") {
    CHECK(judge_elapsed(last, ClockReading{-1, 0}, 0, false, kTolerance, false).status().code() ==
          ErrorCode::kTimeInvalid);
    CHECK(judge_elapsed(last, ClockReading{0, 9007199254740992}, 0, false, kTolerance, false).status().code() ==
          ErrorCode::kTimeInvalid);
    CHECK(judge_elapsed(last, ClockReading{0, 0}, 0, false, -1, false).status().code() ==
          ErrorCode::kTimeInvalid);
  }
}

TEST_CASE("corrected_wall stays in range") {
  CHECK(corrected_wall(100, -1000, true) == 0);
  CHECK(corrected_wall(100, -1000, false) == 100);
  CHECK(corrected_wall(9007199254740991, 10, true) == 9007199254740991);
  CHECK(std::string(to_string(ClockEvent::kJumpForward)) == "jump_forward");
}

}  // namespace
}  // namespace earnings
