#include "state.h"

#include "json_fields.h"
#include "validation.h"

namespace earnings {

const char* to_string(SyncStatus status) {
  switch (status) {
    case SyncStatus::kSynced: return "synced";
    case SyncStatus::kPending: return "pending";
    case SyncStatus::kFailed: return "failed";
  }
  return "pending";
}

Result<SyncStatus> parse_sync_status(const std::string& text) {
  if (text == "synced") return SyncStatus::kSynced;
  if (text == "pending") return SyncStatus::kPending;
  if (text == "failed") return SyncStatus::kFailed;
  return Status(ErrorCode::kRecordCorrupt, "syncStatus must be synced, pending or failed");
}

bool operator==(const EarningsState& a, const EarningsState& b) {
  return a.user_id == b.user_id && a.current_earnings == b.current_earnings &&
         a.base_earning_rate == b.base_earning_rate && a.last_update == b.last_update &&
         a.start_date == b.start_date && a.is_active == b.is_active &&
         a.sync_status == b.sync_status && a.synced_total == b.synced_total &&
         a.pending == b.pending && a.held_for_verification == b.held_for_verification &&
         a.under_review == b.under_review && a.review_flag == b.review_flag &&
         a.server_offset_ms == b.server_offset_ms && a.has_server_time == b.has_server_time &&
         a.has_clock == b.has_clock && a.last_wall == b.last_wall && a.last_mono == b.last_mono &&
         a.accrual_remainder == b.accrual_remainder && a.unsynced_ms == b.unsynced_ms &&
         a.budget_ms == b.budget_ms;
}

Bytes state_to_document(const EarningsState& s) {
  return Fields()
      .add("userId", s.user_id)
      .add("currentEarnings", format_amount(s.current_earnings))
      .add("baseEarningRate", format_amount(s.base_earning_rate))
      .add("lastUpdate", s.last_update)
      .add("startDate", s.start_date)
      .add("isActive", s.is_active)
      .add("syncStatus", to_string(s.sync_status))
      .add("syncedTotal", format_amount(s.synced_total))
      .add("pending", format_amount(s.pending))
      .add("heldForVerification", format_amount(s.held_for_verification))
      .add("underReview", format_amount(s.under_review))
      .add("reviewFlag", s.review_flag)
      .add("serverOffsetMs", s.server_offset_ms)
      .add("hasServerTime", s.has_server_time)
      .add("hasClock", s.has_clock)
      .add("lastWall", s.last_wall)
      .add("lastMono", s.last_mono)
      .add("accrualRemainder", s.accrual_remainder)
      .add("unsyncedMs", s.unsynced_ms)
      .add("budgetMs", s.budget_ms)
      .bytes();
}

Result<EarningsState> state_from_document(const Node& value) {
  constexpr ErrorCode kCorrupt = ErrorCode::kRecordCorrupt;
  if (!value.is_map()) return Status(kCorrupt, "state must be an object");
  EarningsState s;
  Status failure;
  auto take_int = [&](const char* key, std::int64_t min, std::int64_t* out) {
    if (!failure.ok()) return;
    auto read = record_fields::integer(value, key, min, kMaxSafeInteger, kCorrupt);
    if (read.ok()) *out = read.value(); else failure = read.status();
  };
  auto take_amount = [&](const char* key, Units* out) {
    if (!failure.ok()) return;
    auto read = record_fields::amount(value, key, 0, kCorrupt);
    if (read.ok()) *out = read.value(); else failure = read.status();
  };
  auto take_bool = [&](const char* key, bool* out) {
    if (!failure.ok()) return;
    auto read = record_fields::boolean(value, key, kCorrupt);
    if (read.ok()) *out = read.value(); else failure = read.status();
  };
  take_int("userId", 1, &s.user_id);
  take_amount("currentEarnings", &s.current_earnings);
  take_amount("baseEarningRate", &s.base_earning_rate);
  take_int("lastUpdate", 0, &s.last_update);
  take_int("startDate", 0, &s.start_date);
  take_bool("isActive", &s.is_active);
  take_amount("syncedTotal", &s.synced_total);
  take_amount("pending", &s.pending);
  take_amount("heldForVerification", &s.held_for_verification);
  take_amount("underReview", &s.under_review);
  take_bool("reviewFlag", &s.review_flag);
  take_int("serverOffsetMs", -kMaxSafeInteger, &s.server_offset_ms);
  take_bool("hasServerTime", &s.has_server_time);
  take_bool("hasClock", &s.has_clock);
  take_int("lastWall", 0, &s.last_wall);
  take_int("lastMono", 0, &s.last_mono);
  take_int("accrualRemainder", 0, &s.accrual_remainder);
  take_int("unsyncedMs", 0, &s.unsynced_ms);
  take_int("budgetMs", 0, &s.budget_ms);
  if (!failure.ok()) return Status(kCorrupt, "state: " + failure.message());
  auto status_text = record_fields::text(value, "syncStatus", kCorrupt);
  if (!status_text.ok()) return Status(kCorrupt, "state: " + status_text.status().message());
  auto sync_status = parse_sync_status(status_text.value());
  if (!sync_status.ok()) return Status(kCorrupt, "state: " + sync_status.status().message());
  s.sync_status = sync_status.value();
  const ValidationResult check = validate_state(s);
  if (!check.ok) return Status(ErrorCode::kStateInvalid, check.message);
  return s;
}

}  // namespace earnings
