// Raw embind surface of the UI throttle (Property 20, throttle.h): js/core.js wraps it as
// core.createUiThrottle(). The core decides when a subscriber hears an update; the JS caller keeps
// the latest value and owns the timer. Kept apart from bindings.cpp so the engine's translation
// unit does not grow with it.
//
// Times cross as doubles checked here before any conversion (boundary.h). `_offer(now)` runs on
// every state change, so it answers a plain number, not an object: 0 = emit now, > 0 = a trailing
// emission is due in that many ms (offer again then: the window has ended, so it emits), -1 =
// `now` is not a safe integer >= 0 (nothing changed).
#include <emscripten/bind.h>

#include <cstdint>

#include "boundary.h"
#include "throttle.h"

namespace earnings {
namespace {

using boundary::failure;
using boundary::is_safe_integer;
using boundary::Reply;
using boundary::success;

// Two-step construction (`new _UiThrottle()` then `_init`) like the engine's: an embind
// constructor cannot report an invalid interval.
class UiThrottleHandle {
 public:
  Reply init(double interval_ms) {
    if (!is_safe_integer(interval_ms, 1)) {
      return failure(
          Status(ErrorCode::kConfigInvalid, "throttle interval must be a safe integer >= 1 ms"));
    }
    throttle_ = UiThrottle(static_cast<std::int64_t>(interval_ms));
    return success("");
  }

  double offer(double now_mono) {
    if (!is_safe_integer(now_mono, 0)) return -1;
    const auto decision = throttle_.offer(static_cast<std::int64_t>(now_mono));
    return decision.emit_now ? 0 : static_cast<double>(decision.delay_ms);
  }

 private:
  UiThrottle throttle_;
};

}  // namespace
}  // namespace earnings

EMSCRIPTEN_BINDINGS(earnings_throttle) {
  using namespace emscripten;
  using namespace earnings;

  class_<UiThrottleHandle>("_UiThrottle")
      .constructor<>()
      .function("_init", &UiThrottleHandle::init)
      .function("_offer", &UiThrottleHandle::offer);
}
