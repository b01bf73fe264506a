#include "clock_guard.h"

#include "state.h"

namespace earnings {

const char* to_string(ClockEvent event) {
  switch (event) {
    case ClockEvent::kFirst: return "first";
    case ClockEvent::kNormal: return "normal";
    case ClockEvent::kJumpForward: return "jump_forward";
    case ClockEvent::kJumpBack: return "jump_back";
    case ClockEvent::kNewSession: return "new_session";
    case ClockEvent::kClockBack: return "clock_back";
  }
  return "normal";
}

std::int64_t corrected_wall(std::int64_t wall, std::int64_t server_offset_ms, bool has_server_time) {
  if (!has_server_time) return wall;
  // Both are within +-2^53, so the sum cannot overflow int64.
  const std::int64_t corrected = wall + server_offset_ms;
  if (corrected < 0) return 0;
  return corrected > kMaxSafeInteger ? kMaxSafeInteger : corrected;
}

Result<ClockJudgement> judge_elapsed(const ClockAnchor& last, ClockReading now,
                                     std::int64_t server_offset_ms, bool has_server_time,
                                     std::int64_t jump_tolerance_ms, bool new_session) {
  if (now.wall < 0 || now.wall > kMaxSafeInteger || now.mono < 0 || now.mono > kMaxSafeInteger) {
    return Status(ErrorCode::kTimeInvalid, "wall and mono must be safe integers >= 0 ms");
  }
  if (jump_tolerance_ms < 0) {
    return Status(ErrorCode::kTimeInvalid, "clock jump tolerance must not be negative");
  }
  ClockJudgement judgement;
  judgement.anchor = ClockAnchor{true, corrected_wall(now.wall, server_offset_ms, has_server_time),
                                 now.mono};
  if (!last.has) {
    judgement.event = ClockEvent::kFirst;
    return judgement;
  }
  const std::int64_t wall_delta = judgement.anchor.wall - last.wall;
  if (new_session || now.mono < last.mono) {
    if (wall_delta < 0) {
      judgement.event = ClockEvent::kClockBack;
      return judgement;
    }
    judgement.event = ClockEvent::kNewSession;
    judgement.elapsed_ms = wall_delta;
    return judgement;
  }
  judgement.elapsed_ms = now.mono - last.mono;
  judgement.skew_ms = wall_delta - judgement.elapsed_ms;
  if (judgement.skew_ms > jump_tolerance_ms) {
    judgement.event = ClockEvent::kJumpForward;
  } else if (judgement.skew_ms < -jump_tolerance_ms) {
    judgement.event = ClockEvent::kJumpBack;
  } else {
    judgement.event = ClockEvent::kNormal;
  }
  return judgement;
}

}  // namespace earnings
