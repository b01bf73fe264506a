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
         a.budget_ms == b.budget_ms && a.rejected_total == b.rejected_total &&
         a.unconfirmed_since == b.unconfirmed_since && a.unconfirmed_at == b.unconfirmed_at &&
         a.unconfirmed_ms == b.unconfirmed_ms && a.unconfirmed_rate == b.unconfirmed_rate;
}

Units unconfirmed_units(const EarningsState& s) {
  auto units = accrue(s.unconfirmed_rate, s.unconfirmed_ms, 0);
  return units.ok() ? units.value().units : kMaxUnits;
}

Bytes state_to_document(const EarningsState& s) {
  return Fields()
      .add("userId", s.user_id)
      .amount("currentEarnings", s.current_earnings)
      .amount("baseEarningRate", s.base_earning_rate)
      .add("lastUpdate", s.last_update)
      .add("startDate", s.start_date)
      .add("isActive", s.is_active)
      .add("syncStatus", to_string(s.sync_status))
      .amount("syncedTotal", s.synced_total)
      .amount("pending", s.pending)
      .amount("heldForVerification", s.held_for_verification)
      .amount("underReview", s.under_review)
      .amount("rejectedTotal", s.rejected_total)
      .add("reviewFlag", s.review_flag)
      .add("serverOffsetMs", s.server_offset_ms)
      .add("hasServerTime", s.has_server_time)
      .add("hasClock", s.has_clock)
      .add("lastWall", s.last_wall)
      .add("lastMono", s.last_mono)
      .add("accrualRemainder", s.accrual_remainder)
      .add("unsyncedMs", s.unsynced_ms)
      .add("budgetMs", s.budget_ms)
      .amount("unconfirmed", unconfirmed_units(s))
      .add("unconfirmedSince", s.unconfirmed_since)
      .add("unconfirmedAt", s.unconfirmed_at)
      .add("unconfirmedMs", s.unconfirmed_ms)
      .amount("unconfirmedRate", s.unconfirmed_rate)
      .bytes();
}

Result<EarningsState> state_from_document(const Node& value) {
  constexpr ErrorCode kCorrupt = ErrorCode::kRecordCorrupt;
  if (!value.is_map()) return Status(kCorrupt, "state must be an object");
  EarningsState s;
  std::string status_text;
  FieldReader read(value, kCorrupt);
  read.integer("userId", 1, &s.user_id);
  read.amount("currentEarnings", 0, &s.current_earnings);
  read.amount("baseEarningRate", 0, &s.base_earning_rate);
  read.integer("lastUpdate", 0, &s.last_update);
  read.integer("startDate", 0, &s.start_date);
  read.boolean("isActive", &s.is_active);
  read.amount("syncedTotal", 0, &s.synced_total);
  read.amount("pending", 0, &s.pending);
  read.amount("heldForVerification", 0, &s.held_for_verification);
  read.amount("underReview", 0, &s.under_review);
  read.boolean("reviewFlag", &s.review_flag);
  read.integer("serverOffsetMs", -kMaxSafeInteger, &s.server_offset_ms);
  read.boolean("hasServerTime", &s.has_server_time);
  read.boolean("hasClock", &s.has_clock);
  read.integer("lastWall", 0, &s.last_wall);
  read.integer("lastMono", 0, &s.last_mono);
  read.integer("accrualRemainder", 0, &s.accrual_remainder);
  read.integer("unsyncedMs", 0, &s.unsynced_ms);
  read.integer("budgetMs", 0, &s.budget_ms);
  read.text("syncStatus", &status_text);
  // Records written before the catch-up could be held have none.
  if (value.find("unconfirmedSince").exists()) {
    read.integer("unconfirmedSince", -1, &s.unconfirmed_since);
    read.integer("unconfirmedAt", 0, &s.unconfirmed_at);
    read.integer("unconfirmedMs", 0, &s.unconfirmed_ms);
    read.amount("unconfirmedRate", 0, &s.unconfirmed_rate);
  }
  if (!read.ok()) return Status(kCorrupt, "state: " + read.status().message());
  auto sync_status = parse_sync_status(status_text);
  if (!sync_status.ok()) return Status(kCorrupt, "state: " + sync_status.status().message());
  s.sync_status = sync_status.value();
  const ValidationResult check = validate_state(s);
  if (!check.ok) return Status(ErrorCode::kStateInvalid, check.message);
  return s;
}

}  // namespace earnings
