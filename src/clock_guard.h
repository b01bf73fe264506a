// How much time passed between two observations of the device clocks (Property 27). The core
// never reads a clock; callers pass `wall` (Unix epoch ms, settable by the user) and `mono`
// (performance.now(), steady but restarting with every page load).
//
// Rules (DESIGN.md "Time and accrual rules"):
// - same session: elapsed = mono delta, which the user cannot move. A wall delta that disagrees
//   by more than the jump tolerance is reported as a jump; the mono delta is still what counts.
// - new session (the caller says so, e.g. the first observation after a restore, or mono went
//   backwards): elapsed = corrected wall delta, where corrected wall = wall + server offset when
//   a server time is known. A negative delta means the clock moved back: elapsed 0, re-anchor.
// Elapsed time is never negative and no span of time is counted twice, because every judgement
// moves the anchor to the new observation.
#pragma once

#include <cstdint>

#include "status.h"

namespace earnings {

enum class ClockEvent { kFirst, kNormal, kJumpForward, kJumpBack, kNewSession, kClockBack };

// "first" | "normal" | "jump_forward" | "jump_back" | "new_session" | "clock_back"
const char* to_string(ClockEvent event);

struct ClockReading {
  std::int64_t wall = 0;
  std::int64_t mono = 0;
};

struct ClockAnchor {
  bool has = false;
  std::int64_t wall = 0;  // corrected wall
  std::int64_t mono = 0;
};

struct ClockJudgement {
  std::int64_t elapsed_ms = 0;
  ClockEvent event = ClockEvent::kNormal;
  std::int64_t skew_ms = 0;  // wall delta minus mono delta within a session, else 0
  ClockAnchor anchor;        // the observation to judge the next one from
};

// Wall corrected by the server offset when one is known, kept within [0, 2^53 - 1].
std::int64_t corrected_wall(std::int64_t wall, std::int64_t server_offset_ms, bool has_server_time);

// kTimeInvalid when wall or mono is not a safe integer >= 0, or the tolerance is negative.
Result<ClockJudgement> judge_elapsed(const ClockAnchor& last, ClockReading now,
                                     std::int64_t server_offset_ms, bool has_server_time,
                                     std::int64_t jump_tolerance_ms, bool new_session);

inline bool is_clock_jump(ClockEvent event) {
  return event == ClockEvent::kJumpForward || event == ClockEvent::kJumpBack ||
         event == ClockEvent::kClockBack;
}

}  // namespace earnings
