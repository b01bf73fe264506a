#include "conflict.h"

#include "json_fields.h"

namespace earnings {

namespace {

constexpr ErrorCode kInvalid = ErrorCode::kResponseInvalid;
constexpr ErrorCode kCorrupt = ErrorCode::kRecordCorrupt;

}  // namespace

Result<ServerState> parse_server_state(const Node& value) {
  if (!value.is_map()) return Status(kInvalid, "server state must be an object");
  ServerState s;
  Status failure;
  auto take_int = [&](const char* key, std::int64_t min, std::int64_t* out) {
    if (!failure.ok()) return;
    auto read = record_fields::integer(value, key, min, kMaxSafeInteger, kInvalid);
    if (read.ok()) *out = read.value(); else failure = read.status();
  };
  auto take_amount = [&](const char* key, Units* out) {
    if (!failure.ok()) return;
    auto read = record_fields::amount(value, key, 0, kInvalid);
    if (read.ok()) *out = read.value(); else failure = read.status();
  };
  take_int("userId", 1, &s.user_id);
  take_amount("totalEarned", &s.total_earned);
  take_amount("currentEarnings", &s.current_earnings);
  take_amount("baseEarningRate", &s.base_earning_rate);
  take_amount("pendingReview", &s.pending_review);
  take_int("lastSeq", 0, &s.last_seq);
  take_int("lastUpdate", 0, &s.last_update);
  take_int("startDate", 0, &s.start_date);
  if (!failure.ok()) return Status(kInvalid, "server state: " + failure.message());
  auto active = record_fields::boolean(value, "isActive", kInvalid);
  if (!active.ok()) return Status(kInvalid, "server state: " + active.status().message());
  s.is_active = active.value();
  auto status_text = record_fields::text(value, "syncStatus", kInvalid);
  if (!status_text.ok()) return Status(kInvalid, "server state: " + status_text.status().message());
  auto status = parse_sync_status(status_text.value());
  if (!status.ok()) return Status(kInvalid, "server state: " + status.status().message());
  s.sync_status = status.value();
  return s;
}

Bytes conflict_to_document(const ConflictRecord& r) {
  return Fields()
      .add("at", r.at)
      .add("kind", r.kind)
      .add("localSynced", format_amount(r.local_synced))
      .add("localCurrent", format_amount(r.local_current))
      .add("serverTotal", format_amount(r.server_total))
      .add("expectedTotal", format_amount(r.expected_total))
      .add("difference", format_amount(r.difference))
      .add("context", r.context)
      .bytes();
}

void ConflictLog::add(ConflictRecord record) {
  records_.push_back(std::move(record));
  while (records_.size() > kConflictLogCapacity) {
    records_.pop_front();
    ++dropped_;
  }
}

Bytes ConflictLog::to_document() const {
  DocumentWriter records;
  records.begin_array();
  for (const ConflictRecord& record : records_) records.value(conflict_to_document(record));
  records.end();
  return Fields().add("dropped", dropped_).add("records", records.take()).bytes();
}

Result<ConflictLog> ConflictLog::from_document(const Node& value) {
  if (!value.is_map()) return Status(kCorrupt, "conflicts must be an object");
  auto dropped = record_fields::integer(value, "dropped", 0, kMaxSafeInteger, kCorrupt);
  if (!dropped.ok()) return Status(kCorrupt, "conflicts: " + dropped.status().message());
  const Node records = value.find("records");
  if (!records.is_array() || records.size() > kConflictLogCapacity) {
    return Status(kCorrupt, "conflicts: records must be an array of at most 50");
  }
  ConflictLog log;
  log.dropped_ = static_cast<std::uint64_t>(dropped.value());
  for (Node entry : records.elements()) {
    if (!entry.is_map()) return Status(kCorrupt, "conflicts: record must be an object");
    ConflictRecord r;
    auto at = record_fields::integer(entry, "at", 0, kMaxSafeInteger, kCorrupt);
    auto kind = record_fields::text(entry, "kind", kCorrupt);
    auto local_synced = record_fields::amount(entry, "localSynced", 0, kCorrupt);
    auto local_current = record_fields::amount(entry, "localCurrent", 0, kCorrupt);
    auto server_total = record_fields::amount(entry, "serverTotal", 0, kCorrupt);
    auto expected = record_fields::amount(entry, "expectedTotal", 0, kCorrupt);
    auto difference = record_fields::amount(entry, "difference", -kMaxUnits, kCorrupt);
    const Node context = entry.find("context");
    if (!at.ok() || !kind.ok() || !local_synced.ok() || !local_current.ok() || !server_total.ok() ||
        !expected.ok() || !difference.ok() || !context.is_map()) {
      return Status(kCorrupt, "conflicts: record has a missing or mistyped field");
    }
    r.at = at.value();
    r.kind = kind.value();
    r.local_synced = local_synced.value();
    r.local_current = local_current.value();
    r.server_total = server_total.value();
    r.expected_total = expected.value();
    r.difference = difference.value();
    r.context = context.bytes();
    log.records_.push_back(std::move(r));
  }
  return log;
}

Result<Resolution> resolve_conflicts(const EarningsState& local, const ServerState& server,
                                     Units expected_total, Units tolerance, std::int64_t now) {
  auto current = add_amounts(server.total_earned, local.pending);
  if (!current.ok()) return current.status();
  Resolution resolution;
  EarningsState& next = resolution.state;
  next = local;
  next.synced_total = server.total_earned;
  next.current_earnings = current.value();
  next.under_review = server.pending_review;
  if (server.base_earning_rate > 0) next.base_earning_rate = server.base_earning_rate;
  if (expected_total - server.total_earned > tolerance) {
    ConflictRecord record;
    record.at = now;
    record.kind = "lost_credits";
    record.local_synced = local.synced_total;
    record.local_current = local.current_earnings;
    record.server_total = server.total_earned;
    record.expected_total = expected_total;
    record.difference = expected_total - server.total_earned;
    record.context = Fields()
                         .add("reason", "the server holds less than it already confirmed to this client")
                         .add("pending", format_amount(local.pending))
                         .add("tolerance", format_amount(tolerance))
                         .add("serverLastSeq", server.last_seq)
                         .add("serverLastUpdate", server.last_update)
                         .add("localState", state_to_document(local))
                         .bytes();
    next.review_flag = true;
    resolution.conflict = std::move(record);
  }
  return resolution;
}

Result<EarningsState> recover_state_from_server(const ServerState& server, std::int64_t user_id,
                                                std::int64_t now) {
  if (server.user_id != user_id) {
    return Status(ErrorCode::kRecordUserMismatch,
                  "server state is for user " + std::to_string(server.user_id) + ", not " +
                      std::to_string(user_id));
  }
  EarningsState state;
  state.user_id = user_id;
  state.synced_total = server.total_earned;
  state.current_earnings = server.total_earned;
  state.base_earning_rate = server.base_earning_rate;
  state.under_review = server.pending_review;
  state.is_active = server.is_active;
  state.sync_status = SyncStatus::kSynced;
  state.start_date = server.start_date < now ? server.start_date : now;
  state.last_update = now;
  return state;
}

ValidationResult validate_recovered_data(const EarningsState& state) {
  ValidationResult base = validate_state(state);
  if (!base.ok) return base;
  if (state.pending != 0 || state.held_for_verification != 0) {
    return ValidationResult::fail(ErrorCode::kStateInvalid,
                                  "a recovered state owes nothing: pending and held must be 0", true);
  }
  if (state.sync_status != SyncStatus::kSynced) {
    return ValidationResult::fail(ErrorCode::kStateInvalid, "a recovered state is synced", true);
  }
  if (state.current_earnings != state.synced_total) {
    return ValidationResult::fail(ErrorCode::kStateInvalid,
                                  "a recovered state's earnings are the server's total", true);
  }
  return ValidationResult::pass();
}

}  // namespace earnings
