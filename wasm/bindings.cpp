// The raw embind surface of the client core: amounts, records, the engine. wasm/ is the only
// folder that includes <emscripten/...>; the server-side planners are in planning_bindings.cpp.
//
// Contract with js/core.js (the friendly layer; the raw names below are never public API):
// - Every raw function that can fail returns a Reply (boundary.h). Nothing here throws: the
//   module is built with -fno-exceptions.
// - Only values cross: strings (money as decimal strings, structured data as JSON text), doubles
//   (times, user ids, validated here before any conversion to int64) and byte arrays.
#include <emscripten/bind.h>
#include <emscripten/val.h>

#include <algorithm>
#include <cstddef>
#include <cstdint>
#include <string>

#include "amount.h"
#include "audit.h"
#include "boundary.h"
#include "codec.h"
#include "contract.h"
#include "engine.h"
#include "status.h"

namespace earnings {
namespace {

using boundary::failure;
using boundary::is_safe_integer;
using boundary::Reply;
using boundary::reply_of;
using boundary::success;

constexpr const char* kCoreVersion = "1.0.0";

Reply parse_amount_reply(const std::string& text) {
  const auto parsed = parse_amount(text);
  if (!parsed.ok()) return failure(parsed.status());
  return success(format_amount(parsed.value()));
}

Reply add_amounts_reply(const std::string& a, const std::string& b) {
  const auto left = parse_amount(a);
  if (!left.ok()) return failure(left.status());
  const auto right = parse_amount(b);
  if (!right.ok()) return failure(right.status());
  const auto sum = add_amounts(left.value(), right.value());
  if (!sum.ok()) return failure(sum.status());
  return success(format_amount(sum.value()));
}

Status time_invalid() {
  return Status(ErrorCode::kTimeInvalid, "times must be safe integers >= 0 ms");
}

Bytes to_bytes(const std::string& bytes) { return Bytes(bytes.begin(), bytes.end()); }

// Copies out of wasm memory: a view into the heap would be invalidated by the next memory growth.
emscripten::val to_uint8_array(const Bytes& bytes) {
  return emscripten::val::global("Uint8Array")
      .new_(emscripten::typed_memory_view(bytes.size(), bytes.data()));
}

// One user's engine as JS holds it. Two-step construction (`new _Engine()` then `_init`) because
// an embind constructor cannot report an error value. Hot paths (tick, syncDueInMs, serialize)
// return a plain number or null and leave the reason in last_error_ for `_lastError()`, so a tick
// costs no object allocation.
class EngineHandle {
 public:
  Reply init(double user_id, const std::string& client_id, double seed,
             const std::string& config_json) {
    if (!is_safe_integer(user_id, 1)) {
      return failure(Status(ErrorCode::kUserIdInvalid, "userId must be a positive safe integer"));
    }
    if (!is_safe_integer(seed, 0) || seed > 4294967295.0) {
      return failure(Status(ErrorCode::kConfigInvalid, "seed must be a 32-bit unsigned integer"));
    }
    auto config = parse_engine_config(config_json);
    if (!config.ok()) return failure(config.status());
    auto engine = Engine::create(static_cast<std::int64_t>(user_id), client_id,
                                 static_cast<std::uint64_t>(seed), config.value());
    if (!engine.ok()) return failure(engine.status());
    engine_ = std::move(engine).value();
    config_ = config.value();
    user_id_ = static_cast<std::int64_t>(user_id);
    return success("");
  }

  Reply restore(const std::string& bytes) {
    if (user_id_ == 0) return failure(not_initialised());
    auto restored = Engine::restore(to_bytes(bytes), user_id_, config_);
    if (!restored.ok()) return failure(restored.status());
    engine_ = std::move(restored).value();
    return success("");
  }

  Reply set_rate(const std::string& rate) {
    if (user_id_ == 0) return failure(not_initialised());
    return reply_of(engine_.set_rate(rate));
  }

  Reply set_active(bool active, double wall, double mono) {
    if (user_id_ == 0) return failure(not_initialised());
    if (!valid_now(wall, mono)) return failure(time_invalid());
    return reply_of(engine_.set_active(active, to_ms(wall), to_ms(mono)));
  }

  // 1 when the balance changed, 0 when not, -1 on error (see _lastError).
  int tick(double wall, double mono) {
    if (user_id_ == 0) return remember(not_initialised());
    if (!valid_now(wall, mono)) return remember(time_invalid());
    const auto changed = engine_.tick(to_ms(wall), to_ms(mono));
    if (!changed.ok()) return remember(changed.status());
    return changed.value() ? 1 : 0;
  }

  Reply import_legacy(const std::string& text, double wall, double mono) {
    if (user_id_ == 0) return failure(not_initialised());
    if (!valid_now(wall, mono)) return failure(time_invalid());
    return reply_of(engine_.import_legacy(text, to_ms(wall), to_ms(mono)));
  }

  Reply add_earnings(const std::string& amount, double wall, double mono) {
    if (user_id_ == 0) return failure(not_initialised());
    if (!valid_now(wall, mono)) return failure(time_invalid());
    return reply_of(engine_.add_earnings(amount, to_ms(wall), to_ms(mono)));
  }

  std::string state() const { return engine_.state_json(); }
  std::string client_id() const { return engine_.outbox().client_id(); }

  // text "" when there is nothing to send.
  Reply next_sync_request(double wall, double mono, bool force) {
    if (user_id_ == 0) return failure(not_initialised());
    if (!valid_now(wall, mono)) return failure(time_invalid());
    return reply_of(engine_.next_sync_request(to_ms(wall), to_ms(mono), force));
  }

  Reply apply_sync_response(const std::string& answer_text, double wall, double mono) {
    if (user_id_ == 0) return failure(not_initialised());
    if (!valid_now(wall, mono)) return failure(time_invalid());
    return reply_of(engine_.apply_sync_response(answer_text, to_ms(wall), to_ms(mono)));
  }

  Reply apply_sync_failure(double http_status, const std::string& answer_text, double wall,
                           double mono) {
    if (user_id_ == 0) return failure(not_initialised());
    if (!is_safe_integer(http_status, 0) || http_status > 999) {
      return failure(Status(ErrorCode::kResponseInvalid, "HTTP status must be 0..999"));
    }
    if (!valid_now(wall, mono)) return failure(time_invalid());
    return reply_of(engine_.apply_sync_failure(static_cast<std::int64_t>(http_status),
                                               to_ms(wall), to_ms(mono), answer_text));
  }

  // Milliseconds, or -1 on error (see _lastError).
  double sync_due_in_ms(double wall, double mono) {
    if (user_id_ == 0) return remember(not_initialised());
    if (!valid_now(wall, mono)) return remember(time_invalid());
    const auto due = engine_.sync_due_in_ms(to_ms(wall), to_ms(mono));
    if (!due.ok()) return remember(due.status());
    return static_cast<double>(due.value());
  }

  Reply on_online(double wall, double mono) {
    if (user_id_ == 0) return failure(not_initialised());
    if (!valid_now(wall, mono)) return failure(time_invalid());
    return reply_of(engine_.on_online(to_ms(wall), to_ms(mono)));
  }

  Reply recover_from_server(const std::string& answer_text, const std::string& new_client_id,
                            double wall, double mono) {
    if (user_id_ == 0) return failure(not_initialised());
    if (!valid_now(wall, mono)) return failure(time_invalid());
    return reply_of(
        engine_.recover_from_server(answer_text, new_client_id, to_ms(wall), to_ms(mono)));
  }

  void report_corruption(const std::string& detail) {
    if (user_id_ != 0) engine_.report_corruption(detail);
  }

  std::string take_events() { return engine_.take_events(); }

  // A Uint8Array, or null on error (see _lastError). `checkpoint`: Engine::checkpoint, the record
  // as the next checkpoint of the tap journal.
  emscripten::val serialize(bool checkpoint) {
    if (user_id_ == 0) {
      remember(not_initialised());
      return emscripten::val::null();
    }
    const auto bytes = checkpoint ? engine_.checkpoint() : engine_.serialize();
    if (!bytes.ok()) {
      remember(bytes.status());
      return emscripten::val::null();
    }
    return to_uint8_array(bytes.value());
  }

  // A Uint8Array (empty: nothing to store), or null when a checkpoint is due instead.
  emscripten::val journal_entry() {
    if (user_id_ == 0) return emscripten::val::null();
    const auto entry = engine_.journal_entry();
    if (!entry) return emscripten::val::null();
    return to_uint8_array(*entry);
  }

  double journal_seq() const { return static_cast<double>(engine_.journal_seq()); }
  void stored() { engine_.stored(); }

  Reply replay_journal(const std::string& bytes) {
    if (user_id_ == 0) return failure(not_initialised());
    return reply_of(engine_.replay_journal_entry(to_bytes(bytes)));
  }

  std::string audit() { return engine_.audit_json(); }

  // Entries removed, or -1 on error (see _lastError).
  double trim_audit(double keep) {
    if (user_id_ == 0) return remember(not_initialised());
    if (!is_safe_integer(keep, 0)) {
      return remember(Status(ErrorCode::kConfigInvalid, "keep must be a safe integer >= 0"));
    }
    // No log holds more than kMaxAuditCapacity entries, and size_t is 32 bits in wasm: larger
    // counts keep everything, and clamping keeps the cast defined.
    const double bounded = std::min(keep, static_cast<double>(kMaxAuditCapacity));
    return static_cast<double>(engine_.trim_audit(static_cast<std::size_t>(bounded)));
  }

  std::string metrics() const { return engine_.metrics_json(); }
  std::string conflicts() const { return engine_.conflicts_json(); }
  std::string config() const { return json_text(config_to_document(config_)); }

  Reply last_error() const { return failure(last_error_); }

 private:
  static Status not_initialised() {
    return Status(ErrorCode::kStateInvalid, "engine used before _init succeeded");
  }

  static bool valid_now(double wall, double mono) {
    return is_safe_integer(wall, 0) && is_safe_integer(mono, 0);
  }

  // REQUIRES: is_safe_integer(ms, 0).
  static std::int64_t to_ms(double ms) { return static_cast<std::int64_t>(ms); }

  int remember(const Status& status) {
    last_error_ = status;
    return -1;
  }

  Engine engine_;
  EngineConfig config_;
  std::int64_t user_id_ = 0;  // 0 until _init succeeded
  Status last_error_;
};

Reply detect_corruption_reply(const std::string& bytes, double user_id) {
  if (!is_safe_integer(user_id, 1)) {
    return failure(Status(ErrorCode::kUserIdInvalid, "userId must be a positive safe integer"));
  }
  return reply_of(Engine::detect_corruption(to_bytes(bytes), static_cast<std::int64_t>(user_id)));
}

Reply engine_config_reply(const std::string& text) {
  const auto config = parse_engine_config(text);
  if (!config.ok()) return failure(config.status());
  return success(json_text(config_to_document(config.value())));
}

// Bytes arrive as a std::string: embind copies a Uint8Array into it byte for byte, which is both
// the cheapest crossing and free of any JS-side pointer arithmetic.
Reply decode_record_reply(const std::string& bytes) {
  const auto decoded =
      decode_record(reinterpret_cast<const std::uint8_t*>(bytes.data()), bytes.size());
  if (!decoded.ok()) return failure(decoded.status());
  return success(decoded.value().root().json());
}

Reply decode_legacy_v1_reply(const std::string& text) {
  const auto decoded = decode_legacy_v1(text);
  if (!decoded.ok()) return failure(decoded.status());
  return success(decoded.value().root().json());
}

std::string core_version() { return kCoreVersion; }

}  // namespace
}  // namespace earnings

EMSCRIPTEN_BINDINGS(earnings_core) {
  using namespace emscripten;
  using namespace earnings;

  value_object<Reply>("Reply").field("code", &Reply::code).field("text", &Reply::text);

  function("_version", &core_version);
  function("_contract", &contract_json);
  function("_parseAmount", &parse_amount_reply);
  function("_addAmounts", &add_amounts_reply);
  function("_decodeRecord", &decode_record_reply);
  function("_decodeLegacyV1", &decode_legacy_v1_reply);
  function("_detectCorruption", &detect_corruption_reply);
  function("_engineConfig", &engine_config_reply);

  class_<EngineHandle>("_Engine")
      .constructor<>()
      .function("_init", &EngineHandle::init)
      .function("_restore", &EngineHandle::restore)
      .function("_setRate", &EngineHandle::set_rate)
      .function("_setActive", &EngineHandle::set_active)
      .function("_tick", &EngineHandle::tick)
      .function("_addEarnings", &EngineHandle::add_earnings)
      .function("_importLegacy", &EngineHandle::import_legacy)
      .function("_state", &EngineHandle::state)
      .function("_clientId", &EngineHandle::client_id)
      .function("_nextSyncRequest", &EngineHandle::next_sync_request)
      .function("_applySyncResponse", &EngineHandle::apply_sync_response)
      .function("_applySyncFailure", &EngineHandle::apply_sync_failure)
      .function("_syncDueInMs", &EngineHandle::sync_due_in_ms)
      .function("_onOnline", &EngineHandle::on_online)
      .function("_recoverFromServer", &EngineHandle::recover_from_server)
      .function("_reportCorruption", &EngineHandle::report_corruption)
      .function("_takeEvents", &EngineHandle::take_events)
      .function("_serialize", &EngineHandle::serialize)
      .function("_journalEntry", &EngineHandle::journal_entry)
      .function("_journalSeq", &EngineHandle::journal_seq)
      .function("_stored", &EngineHandle::stored)
      .function("_replayJournal", &EngineHandle::replay_journal)
      .function("_audit", &EngineHandle::audit)
      .function("_trimAudit", &EngineHandle::trim_audit)
      .function("_metrics", &EngineHandle::metrics)
      .function("_conflicts", &EngineHandle::conflicts)
      .function("_config", &EngineHandle::config)
      .function("_lastError", &EngineHandle::last_error);
}
