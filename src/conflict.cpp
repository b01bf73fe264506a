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
  std::string status_text;
  FieldReader read(value, kInvalid);
  read.integer("userId", 1, &s.user_id);
  read.amount("totalEarned", 0, &s.total_earned);
  read.amount("currentEarnings", 0, &s.current_earnings);
  read.amount("baseEarningRate", 0, &s.base_earning_rate);
  read.amount("pendingReview", 0, &s.pending_review);
  read.integer("lastSeq", 0, &s.last_seq);
  read.integer("lastUpdate", 0, &s.last_update);
  read.integer("startDate", 0, &s.start_date);
  read.boolean("isActive", &s.is_active);
  read.text("syncStatus", &status_text);
  if (!read.ok()) return Status(kInvalid, "server state: " + read.status().message());
  auto status = parse_sync_status(status_text);
  if (!status.ok()) return Status(kInvalid, "server state: " + status.status().message());
  s.sync_status = status.value();
  return s;
}

ConflictRecord new_conflict(std::int64_t at, const char* kind, const EarningsState& local,
                            const ServerState& server, Units expected_total) {
  ConflictRecord record;
  record.at = at;
  record.kind = kind;
  record.local_synced = local.synced_total;
  record.local_current = local.current_earnings;
  record.server_total = server.total_earned;
  record.expected_total = expected_total;
  return record;
}

Bytes conflict_to_document(const ConflictRecord& r) {
  return Fields()
      .add("at", r.at)
      .add("kind", r.kind)
      .amount("localSynced", r.local_synced)
      .amount("localCurrent", r.local_current)
      .amount("serverTotal", r.server_total)
      .amount("expectedTotal", r.expected_total)
      .amount("difference", r.difference)
      .add("context", r.context)
      .bytes();
}

void ConflictLog::add(ConflictRecord record) {
  records_.push_back(std::move(record));
  while (records_.size() > kConflictLogCapacity) {
    records_.erase(records_.begin());
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
  std::int64_t dropped = 0;
  FieldReader read(value, kCorrupt);
  read.integer("dropped", 0, &dropped);
  if (!read.ok()) return Status(kCorrupt, "conflicts: " + read.status().message());
  const Node records = value.find("records");
  if (!records.is_array() || records.size() > kConflictLogCapacity) {
    return Status(kCorrupt, "conflicts: records must be an array of at most 50");
  }
  ConflictLog log;
  log.dropped_ = static_cast<std::uint64_t>(dropped);
  for (Node entry : records.elements()) {
    if (!entry.is_map()) return Status(kCorrupt, "conflicts: record must be an object");
    ConflictRecord r;
    FieldReader field(entry, kCorrupt);
    field.integer("at", 0, &r.at);
    field.text("kind", &r.kind);
    field.amount("localSynced", 0, &r.local_synced);
    field.amount("localCurrent", 0, &r.local_current);
    field.amount("serverTotal", 0, &r.server_total);
    field.amount("expectedTotal", 0, &r.expected_total);
    field.amount("difference", -kMaxUnits, &r.difference);
    const Node context = entry.find("context");
    if (!field.ok() || !context.is_map()) {
      return Status(kCorrupt, "conflicts: record has a missing or mistyped field");
    }
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
    ConflictRecord record = new_conflict(now, "lost_credits", local, server, expected_total);
    record.difference = expected_total - server.total_earned;
    record.context = Fields()
                         .add("reason", "the server holds less than it already confirmed to this client")
                         .amount("pending", local.pending)
                         .amount("tolerance", tolerance)
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
