// UI update throttle (Property 20): subscribers hear at most one update per interval (1000 ms by
// default), and the last update is never lost: an update offered inside the quiet window is
// delivered by a trailing emission as soon as the window ends. The throttle decides only when;
// the caller keeps the latest value and owns the timer (the core reads no clock).
//
// Time is the monotonic clock (performance.now() rounded down). Monotonic time resets on reload;
// a `now` earlier than the last emission is taken as a new session and emits at once.
#pragma once

#include <cstdint>
#include <optional>

namespace earnings {

constexpr std::int64_t kUiThrottleIntervalMs = 1000;

struct ThrottleDecision {
  bool emit_now = false;
  // When !emit_now: milliseconds until fire() should be called for the trailing emission.
  std::int64_t delay_ms = 0;
};

class UiThrottle {
 public:
  // REQUIRES: interval_ms >= 1 (smaller values are raised to 1).
  explicit UiThrottle(std::int64_t interval_ms = kUiThrottleIntervalMs);

  // A new value is ready. Either emit it now, or wait `delay_ms` and call fire(); offering
  // again while a trailing emission is pending answers the same deadline.
  ThrottleDecision offer(std::int64_t now_mono);

  // The timer armed by offer() went off. True when the trailing emission happens now (emit the
  // latest value); false when nothing is pending or the window has not ended yet (a timer that
  // fired early: re-arm it with delay_until_due()).
  bool fire(std::int64_t now_mono);

  bool pending() const { return pending_; }
  // Milliseconds until a pending trailing emission is due (0 when due or nothing pending).
  std::int64_t delay_until_due(std::int64_t now_mono) const;
  std::optional<std::int64_t> last_emission() const { return last_emission_; }
  std::int64_t interval_ms() const { return interval_ms_; }

 private:
  bool window_open(std::int64_t now_mono) const;
  void emit(std::int64_t now_mono);

  std::int64_t interval_ms_;
  std::optional<std::int64_t> last_emission_;
  bool pending_ = false;
};

}  // namespace earnings
