#include "throttle.h"

namespace earnings {

UiThrottle::UiThrottle(std::int64_t interval_ms) : interval_ms_(interval_ms < 1 ? 1 : interval_ms) {}

bool UiThrottle::window_open(std::int64_t now_mono) const {
  return !last_emission_ || now_mono < *last_emission_ || now_mono - *last_emission_ >= interval_ms_;
}

void UiThrottle::emit(std::int64_t now_mono) {
  last_emission_ = now_mono;
  pending_ = false;
}

ThrottleDecision UiThrottle::offer(std::int64_t now_mono) {
  ThrottleDecision decision;
  if (window_open(now_mono)) {
    emit(now_mono);
    decision.emit_now = true;
    return decision;
  }
  pending_ = true;
  decision.delay_ms = delay_until_due(now_mono);
  return decision;
}

bool UiThrottle::fire(std::int64_t now_mono) {
  if (!pending_ || !window_open(now_mono)) return false;
  emit(now_mono);
  return true;
}

std::int64_t UiThrottle::delay_until_due(std::int64_t now_mono) const {
  if (!pending_ || window_open(now_mono)) return 0;
  return *last_emission_ + interval_ms_ - now_mono;
}

}  // namespace earnings
