#include "engine.h"

#include <algorithm>
#include <utility>

#include "contract.h"
#include "json_fields.h"
#include "validation.h"

namespace earnings {

namespace {

constexpr std::int64_t kMsPerDay = 24 * kMsPerHour;
constexpr std::size_t kMaxPendingEvents = 100;
constexpr const char* kAccrualOperation = "accrual";

Status config_error(const std::string& message) {
  return Status(ErrorCode::kConfigInvalid, message);
}

Status check_range(const char* name, std::int64_t value, std::int64_t min, std::int64_t max) {
  if (value < min || value > max) {
    return config_error(std::string(name) + " must be between " + std::to_string(min) + " and " +
                        std::to_string(max));
  }
  return Status::Ok();
}

std::int64_t saturating_add_ms(std::int64_t a, std::int64_t b) {
  return b > kMaxSafeInteger - a ? kMaxSafeInteger : a + b;
}

// 16 lowercase hex digits, the form rng_from_text reads. A digit loop rather than snprintf: printf
// would pull its float formatter into the wasm module (about 3 KB gzip) for this one call.
std::string rng_to_text(std::uint64_t state) {
  std::string text(16, '0');
  for (int i = 15; i >= 0; --i, state >>= 4) text[i] = "0123456789abcdef"[state & 0xF];
  return text;
}

bool rng_from_text(const std::string& text, std::uint64_t* state) {
  if (text.size() != 16) return false;
  std::uint64_t value = 0;
  for (char c : text) {
    int digit = -1;
    if (c >= '0' && c <= '9') digit = c - '0';
    if (c >= 'a' && c <= 'f') digit = c - 'a' + 10;
    if (digit < 0) return false;
    value = (value << 4) | static_cast<std::uint64_t>(digit);
  }
  *state = value;
  return true;
}

// An op as events and conflict reports show it; `type` is the op's type or what happened to it.
Fields op_summary(const Outbox& outbox, const OutboxOp& op, const char* type) {
  return Fields()
      .add("id", outbox.op_id(op))
      .add("seq", op.seq)
      .add("type", type)
      .amount("amount", op.amount);
}

constexpr OpOutcome kOutcomes[] = {OpOutcome::kApplied, OpOutcome::kDuplicate, OpOutcome::kRejected,
                                   OpOutcome::kReview, OpOutcome::kGap};

// The codes with which the sync server refuses a request because the request itself is wrong
// (DESIGN.md, Errors): sending the same ops again cannot succeed, so they are refused for good.
// Identity, routing, size and availability codes are not among them.
bool is_permanent_refusal(const std::string& code) {
  constexpr ErrorCode kPermanent[] = {
      ErrorCode::kAmountMalformed, ErrorCode::kAmountPrecision, ErrorCode::kAmountOverflow,
      ErrorCode::kAmountNegative,  ErrorCode::kAmountExceedsBudget, ErrorCode::kRateInvalid,
      ErrorCode::kTimeInvalid,     ErrorCode::kTimestampOrder,  ErrorCode::kStateInvalid,
      ErrorCode::kRequestInvalid};
  for (ErrorCode permanent : kPermanent) {
    if (code == to_string(permanent)) return true;
  }
  return false;
}

}  // namespace

Status validate_config(const EngineConfig& c) {
  Status s = check_range("offlineCapMs", c.offline_cap_ms, 60000, 30 * kMsPerDay);
  if (s.ok()) s = check_range("toleranceMs", c.tolerance_ms, 0, kMsPerHour);
  if (s.ok()) s = check_range("clockJumpToleranceMs", c.clock_jump_tolerance_ms, 0, kMsPerHour);
  if (s.ok()) s = check_range("maxRetries", c.max_retries, 0, 1000);
  if (s.ok()) s = check_range("backoffBaseMs", c.backoff_base_ms, 1, kMsPerHour);
  if (s.ok()) s = check_range("backoffCapMs", c.backoff_cap_ms, c.backoff_base_ms, kMsPerDay);
  if (s.ok()) s = check_range("syncIntervalMs", c.sync_interval_ms, 1000, kMsPerDay);
  if (s.ok()) s = check_range("maxBatch", c.max_batch, 1, 1000);
  if (s.ok()) s = check_range("auditCapacity", c.audit_capacity, 10, 100000);
  if (s.ok() && (c.max_rate_per_hour <= 0 || c.max_rate_per_hour > kMaxUnits)) {
    s = config_error("maxRatePerHour must be above 0 and at most 9999999999.99999999");
  }
  return s;
}

Result<EngineConfig> parse_engine_config(const std::string& text) {
  EngineConfig config;
  if (text.empty()) return config;
  auto parsed = Document::parse_json(text, ErrorCode::kConfigInvalid);
  const Node doc = parsed.value().root();
  if (!parsed.ok() || !doc.is_map()) return config_error("config must be a JSON object");
  struct IntKey {
    const char* name;
    std::int64_t* field;
  };
  const IntKey keys[] = {{"offlineCapMs", &config.offline_cap_ms},
                         {"toleranceMs", &config.tolerance_ms},
                         {"clockJumpToleranceMs", &config.clock_jump_tolerance_ms},
                         {"maxRetries", &config.max_retries},
                         {"backoffBaseMs", &config.backoff_base_ms},
                         {"backoffCapMs", &config.backoff_cap_ms},
                         {"syncIntervalMs", &config.sync_interval_ms},
                         {"maxBatch", &config.max_batch},
                         {"auditCapacity", &config.audit_capacity}};
  FieldReader read(doc, ErrorCode::kConfigInvalid);
  for (const Member& member : doc.members()) {
    const std::string& key = member.key;
    if (key == "maxRatePerHour") {
      read.amount("maxRatePerHour", 1, &config.max_rate_per_hour);
      continue;
    }
    bool known = false;
    for (const IntKey& entry : keys) {
      if (key != entry.name) continue;
      known = true;
      read.integer(entry.name, 0, entry.field);
    }
    if (!known) return config_error("unknown config key \"" + key.substr(0, 40) + "\"");
  }
  if (!read.ok()) return read.status();
  Status valid = validate_config(config);
  if (!valid.ok()) return valid;
  return config;
}

Bytes config_to_document(const EngineConfig& c) {
  return Fields()
      .add("offlineCapMs", c.offline_cap_ms)
      .add("toleranceMs", c.tolerance_ms)
      .add("clockJumpToleranceMs", c.clock_jump_tolerance_ms)
      .add("maxRetries", c.max_retries)
      .add("backoffBaseMs", c.backoff_base_ms)
      .add("backoffCapMs", c.backoff_cap_ms)
      .add("syncIntervalMs", c.sync_interval_ms)
      .add("maxBatch", c.max_batch)
      .add("auditCapacity", c.audit_capacity)
      .amount("maxRatePerHour", c.max_rate_per_hour);
}

Result<Engine> Engine::create(std::int64_t user_id, const std::string& client_id, std::uint64_t seed,
                              const EngineConfig& config) {
  if (user_id <= 0 || user_id > kMaxSafeInteger) {
    return Status(ErrorCode::kUserIdInvalid, "userId must be a positive safe integer");
  }
  if (!is_valid_client_id(client_id)) {
    return Status(ErrorCode::kRequestInvalid, kClientIdRule);
  }
  Status valid = validate_config(config);
  if (!valid.ok()) return valid;
  Engine engine;
  engine.config_ = config;
  engine.state_.user_id = user_id;
  engine.state_.budget_ms = config.tolerance_ms;
  engine.outbox_ = Outbox(client_id);
  engine.audit_ = AuditLog(static_cast<std::size_t>(config.audit_capacity));
  engine.random_ = SeededRandom(seed);
  return engine;
}

// ---- time and accrual ----

Result<ClockJudgement> Engine::observe(std::int64_t wall, std::int64_t mono) {
  const ClockAnchor last{state_.has_clock, state_.last_wall, state_.last_mono};
  auto judged = judge_elapsed(last, ClockReading{wall, mono}, state_.server_offset_ms,
                              state_.has_server_time, config_.clock_jump_tolerance_ms, new_session_);
  if (!judged.ok()) {
    audit_error("observe", judged.status(), Fields().add("wall", wall).add("mono", mono));
    return judged;
  }
  const ClockJudgement& j = judged.value();
  new_session_ = false;
  const std::int64_t from = state_.last_update;
  state_.has_clock = true;
  state_.last_wall = j.anchor.wall;
  state_.last_mono = j.anchor.mono;
  if (j.event == ClockEvent::kFirst) {
    const bool fresh = state_.start_date == 0 && state_.last_update == 0;
    if (state_.last_update < j.anchor.wall) state_.last_update = j.anchor.wall;
    if (fresh) state_.start_date = state_.last_update;
    return judged;
  }
  if ((j.event == ClockEvent::kNewSession || j.event == ClockEvent::kClockBack) && state_.has_server_time) {
    // The time the app was closed, by a device clock the user may have moved: held beside the
    // balance until a server time judges it (settle_catch_up); a second reload adds its claim.
    if (state_.unconfirmed_since < 0) {
      state_.unconfirmed_since = last.wall;
      state_.unconfirmed_at = state_.last_update;
      state_.unconfirmed_rate = state_.is_active ? state_.base_earning_rate : 0;
    }
    state_.unconfirmed_ms = saturating_add_ms(state_.unconfirmed_ms, j.elapsed_ms);
    return judged;
  }
  state_.last_update = saturating_add_ms(state_.last_update, j.elapsed_ms);
  if (is_clock_jump(j.event)) {
    metrics_.record_clock_jump();
    Fields detail;
    detail.add("kind", to_string(j.event))
        .add("skewMs", j.skew_ms)
        .add("elapsedMs", j.elapsed_ms)
        .add("wall", wall)
        .add("mono", mono);
    audit("clock_jump", AuditSource::kLocal, std::nullopt, std::nullopt, detail);
    push_event(detail.add("type", "clock_jump"));
  }
  if (j.event == ClockEvent::kNewSession) metrics_.add_offline_ms(j.elapsed_ms);
  Status accrued = accrue(j.elapsed_ms, from, state_.last_update);
  if (!accrued.ok()) return accrued;
  return judged;
}

Status Engine::accrue(std::int64_t elapsed_ms, std::int64_t from, std::int64_t to) {
  if (elapsed_ms <= 0) return Status::Ok();
  if (!state_.is_active) {
    // Time not spent mining is what add_earnings may claim, up to the offline cap.
    const std::int64_t limit = config_.offline_cap_ms + config_.tolerance_ms;
    state_.budget_ms = std::min(limit, saturating_add_ms(state_.budget_ms, elapsed_ms));
    return Status::Ok();
  }
  const Units rate = state_.base_earning_rate;
  if (rate == 0) return Status::Ok();
  const std::int64_t room = config_.offline_cap_ms - state_.unsynced_ms;
  const std::int64_t in_cap = room <= 0 ? 0 : std::min(room, elapsed_ms);
  const std::int64_t beyond = elapsed_ms - in_cap;
  auto credited = earnings::accrue(rate, in_cap, state_.accrual_remainder);
  if (!credited.ok()) return credited.status();
  auto held = earnings::accrue(rate, beyond, credited.value().remainder);
  if (!held.ok()) return held.status();
  auto new_current = add_amounts(state_.current_earnings, credited.value().units);
  auto new_held = add_amounts(state_.held_for_verification, held.value().units);
  if (!new_current.ok() || !new_held.ok()) {
    Status overflow(ErrorCode::kAmountOverflow, "accrual would exceed the largest amount");
    audit_error("accrual", overflow, Fields().add("elapsedMs", elapsed_ms));
    return overflow;
  }
  if (in_cap > 0) {
    Status added = outbox_.add(OpType::kAccrual, credited.value().units, from, from + in_cap, rate, in_cap);
    if (!added.ok()) return added;
  }
  if (beyond > 0) {
    const bool first_held = state_.held_for_verification == 0 && held.value().units > 0;
    Status added = outbox_.add(OpType::kVerification, held.value().units, from + in_cap, to, rate, beyond);
    if (!added.ok()) return added;
    if (first_held) {
      push_event(Fields()
                     .add("type", "review_needed")
                     .add("reason", "offline_cap")
                     .add("offlineCapMs", config_.offline_cap_ms));
    }
  }
  state_.accrual_remainder = held.value().remainder;
  if (dirty_since_ < 0) dirty_since_ = from;
  if (tally_.ticks == 0) {
    tally_.from = from;
    tally_.old_value = state_.current_earnings;
  }
  ++tally_.ticks;
  tally_.credited += credited.value().units;
  tally_.held += held.value().units;
  tally_.ms = saturating_add_ms(tally_.ms, elapsed_ms);
  tally_.to = to;
  refresh_from_outbox();
  return Status::Ok();
}

void Engine::take_outbox_totals(const Outbox& outbox, EarningsState* state) const {
  EarningsState& next = *state;
  next.pending = outbox.pending_units();
  next.held_for_verification = outbox.held_units();
  next.unsynced_ms = outbox.accrued_ms();
  next.rejected_total = outbox.rejected_total();
  // Both are bounded by kMaxUnits (callers check before adding), so the sum fits in int64.
  next.current_earnings = next.synced_total + next.pending;
  if (backoff_.failed(backoff_policy()) && !outbox.empty()) {
    next.sync_status = SyncStatus::kFailed;
  } else {
    next.sync_status = outbox.empty() ? SyncStatus::kSynced : SyncStatus::kPending;
  }
}

void Engine::refresh_from_outbox() {
  take_outbox_totals(outbox_, &state_);
  metrics_.set_queue_depth(outbox_.depth());
}

Units Engine::tolerance_units() const {
  return budget_for(state_.base_earning_rate, config_.tolerance_ms);
}

BackoffPolicy Engine::backoff_policy() const {
  return BackoffPolicy{config_.backoff_base_ms, config_.backoff_cap_ms, config_.max_retries};
}

// ---- audit and events ----

void Engine::flush_accrual_audit() {
  if (tally_.ticks == 0) return;
  auto metadata = [](const AccrualTally& t, Units rate) -> Bytes {
    return Fields()
        .add("fromTime", t.from)
        .add("toTime", t.to)
        .add("ms", t.ms)
        .add("ticks", t.ticks)
        .amount("credited", t.credited)
        .amount("held", t.held)
        .amount("rate", rate);
  };
  AuditEntry* last = audit_.last();
  // Consecutive accruals share one entry, so a day of one-second ticks is one audit record.
  if (last != nullptr && last->operation_type == kAccrualOperation) {
    auto read = Document::from_bytes(last->metadata, ErrorCode::kRecordCorrupt);
    const Node meta = read.value().root();
    auto number = [&meta](const char* key) -> std::int64_t {
      std::int64_t value = 0;
      const Node found = meta.find(key);
      return found.is_integer() && found.as_int64(&value) ? value : 0;
    };
    auto amount = [&meta](const char* key) -> Units {
      auto parsed = parse_amount(meta.find(key).text());
      return parsed.ok() ? parsed.value() : 0;
    };
    auto credited = add_amounts(amount("credited"), tally_.credited);
    auto held = add_amounts(amount("held"), tally_.held);
    if (credited.ok() && held.ok()) {
      AccrualTally merged = tally_;
      merged.from = number("fromTime");
      merged.ms = saturating_add_ms(number("ms"), tally_.ms);
      merged.ticks = saturating_add_ms(number("ticks"), tally_.ticks);
      merged.credited = credited.value();
      merged.held = held.value();
      last->metadata = metadata(merged, amount("rate"));
      last->new_value = state_.current_earnings;
      last->timestamp = tally_.to;
      tally_ = AccrualTally();
      return;
    }
  }
  AuditEntry entry;
  entry.user_id = state_.user_id;
  entry.operation_type = kAccrualOperation;
  entry.old_value = tally_.old_value;
  entry.new_value = state_.current_earnings;
  entry.timestamp = tally_.to;
  entry.source = AuditSource::kLocal;
  entry.metadata = metadata(tally_, state_.base_earning_rate);
  audit_.append(std::move(entry));
  tally_ = AccrualTally();
}

std::size_t Engine::trim_audit(std::size_t keep) {
  close_journal();
  flush_accrual_audit();
  return audit_.trim_to(keep);
}

void Engine::audit(const char* operation, AuditSource source, std::optional<Units> old_value,
                   std::optional<Units> new_value, Bytes metadata) {
  flush_accrual_audit();
  AuditEntry entry;
  entry.user_id = state_.user_id;
  entry.operation_type = operation;
  entry.old_value = old_value;
  entry.new_value = new_value;
  entry.timestamp = state_.last_update;
  entry.source = source;
  entry.metadata = std::move(metadata);
  audit_.append(std::move(entry));
}

void Engine::audit_error(const char* operation, const Status& status, const Bytes& conditions) {
  audit("error", AuditSource::kLocal, std::nullopt, std::nullopt,
        Fields()
            .add("operation", operation)
            .add("code", status.code_name())
            .add("message", status.message())
            .add("conditions", conditions)
            .add("state", state_to_document(state_))
            .add("queueDepth", outbox_.depth())
            .add("failures", backoff_.failures()));
}

void Engine::push_event(Bytes event) {
  events_.push_back(std::move(event));
  while (events_.size() > kMaxPendingEvents) events_.erase(events_.begin());
}

std::string Engine::take_events() {
  std::string text = json_text(array_document(events_));
  events_.clear();
  return text;
}

// ---- the public operations ----

std::string Engine::state_json() const { return json_text(state_to_document(state_)); }

Status Engine::set_rate(const std::string& rate) {
  close_journal();
  auto parsed = parse_amount(rate);
  Status failure;
  if (!parsed.ok()) {
    failure = Status(ErrorCode::kRateInvalid, "rate: " + parsed.status().message());
  } else if (parsed.value() < 0) {
    failure = Status(ErrorCode::kRateInvalid, "rate must not be negative");
  } else if (parsed.value() > config_.max_rate_per_hour) {
    failure = Status(ErrorCode::kRateInvalid,
                     "rate " + format_amount(parsed.value()) + " is above maxRatePerHour " +
                         format_amount(config_.max_rate_per_hour));
  }
  if (!failure.ok()) {
    audit_error("set_rate", failure, Fields().add("rate", rate.substr(0, 40)));
    return failure;
  }
  const Units previous = state_.base_earning_rate;
  state_.base_earning_rate = parsed.value();
  audit("rate_change", AuditSource::kLocal, previous, parsed.value(), Fields());
  return Status::Ok();
}

void Engine::adopt_server_rate(Units rate) {
  if (rate == state_.base_earning_rate) return;
  const Units previous = state_.base_earning_rate;
  state_.base_earning_rate = rate;
  audit("rate_change", AuditSource::kSync, previous, rate, Fields().add("source", "server"));
}

Status Engine::set_active(bool active, std::int64_t wall, std::int64_t mono) {
  close_journal();
  auto observed = observe(wall, mono);
  if (!observed.ok()) return observed.status();
  if (state_.is_active == active) return Status::Ok();
  state_.is_active = active;
  audit(active ? "mining_started" : "mining_stopped", AuditSource::kLocal, state_.current_earnings,
        state_.current_earnings, Fields().amount("rate", state_.base_earning_rate));
  return Status::Ok();
}

Result<bool> Engine::tick(std::int64_t wall, std::int64_t mono) {
  const bool fresh = new_session_;
  const Units current = state_.current_earnings;
  const Units held = state_.held_for_verification;
  auto observed = observe(wall, mono);
  log_call(observed.ok(), JournalCall{JournalCallKind::kTick, wall, mono, fresh, 0});
  if (!observed.ok()) return observed.status();
  return state_.current_earnings != current || state_.held_for_verification != held;
}

Status Engine::add_earnings(const std::string& amount_text, std::int64_t wall, std::int64_t mono) {
  const bool fresh = new_session_;
  Units amount = 0;
  Status added = claim_earnings(amount_text, wall, mono, &amount);
  log_call(added.ok(), JournalCall{JournalCallKind::kEarning, wall, mono, fresh, amount});
  return added;
}

Status Engine::claim_earnings(const std::string& amount_text, std::int64_t wall, std::int64_t mono,
                              Units* claimed) {
  auto parsed = parse_non_negative_amount(amount_text);
  Status failure = parsed.status();
  if (failure.ok() && parsed.value() == 0) {
    failure = Status(ErrorCode::kAmountNegative, "earnings must be greater than 0");
  }
  if (!failure.ok()) {
    audit_error("add_earnings", failure, Fields().add("amount", amount_text.substr(0, 40)));
    return failure;
  }
  auto observed = observe(wall, mono);
  if (!observed.ok()) return observed.status();
  const Units amount = parsed.value();
  const ValidationResult check =
      validate_amount(amount, state_.base_earning_rate, state_.budget_ms, 0);
  Status rejected = check.status();
  if (rejected.ok() && !add_amounts(state_.current_earnings, amount).ok()) {
    rejected = Status(ErrorCode::kAmountOverflow, "earnings would exceed the largest amount");
  }
  if (!rejected.ok()) {
    audit_error("add_earnings", rejected,
                Fields()
                    .amount("amount", amount)
                    .add("budgetMs", state_.budget_ms)
                    .add("flagForReview", check.flag_for_review));
    return rejected;
  }
  const std::int64_t spent_ms = ms_to_earn(amount, state_.base_earning_rate);
  const std::int64_t from = std::max(state_.start_date, state_.last_update - spent_ms);
  Status added = outbox_.add(OpType::kEarningsUpdate, amount, from, state_.last_update,
                             state_.base_earning_rate, 0);
  if (!added.ok()) {
    audit_error("add_earnings", added, Fields().amount("amount", amount));
    return added;
  }
  state_.budget_ms -= std::min(spent_ms, state_.budget_ms);
  if (dirty_since_ < 0) dirty_since_ = state_.last_update;
  const Units before = state_.current_earnings;
  refresh_from_outbox();
  audit("earnings_update", AuditSource::kLocal, before, state_.current_earnings,
        Fields()
            .amount("amount", amount)
            .add("spentMs", spent_ms)
            .add("budgetMs", state_.budget_ms));
  *claimed = amount;
  return Status::Ok();
}

Result<std::string> Engine::next_sync_request(std::int64_t wall, std::int64_t mono, bool force) {
  close_journal();
  auto observed = observe(wall, mono);
  if (!observed.ok()) return observed.status();
  const std::int64_t now = state_.last_update;
  if (!force && backoff_.ms_until_retry(now) > 0) return std::string();
  const std::vector<OutboxOp> batch = outbox_.take_batch(static_cast<std::size_t>(config_.max_batch));
  if (outbox_.open(OpType::kAccrual).empty() && outbox_.open(OpType::kEarningsUpdate).empty() &&
      outbox_.open(OpType::kVerification).empty()) {
    dirty_since_ = -1;
  }
  refresh_from_outbox();
  if (batch.empty()) return std::string();
  request_at_ = now;
  sync_now_ = false;
  metrics_.record_sync_attempt();
  metrics_.record_ops_sent(batch.size());
  if (backoff_.failures() > 0) metrics_.record_retry();
  std::vector<Bytes> ops;
  Units total = 0;
  for (const OutboxOp& op : batch) {
    ops.push_back(outbox_.op_to_wire(op));
    total += op.amount;
  }
  audit("sync_request", AuditSource::kSync, state_.current_earnings, state_.current_earnings,
        Fields()
            .add("ops", batch.size())
            .add("firstSeq", batch.front().seq)
            .add("lastSeq", batch.back().seq)
            .amount("amount", total)
            .add("attempt", backoff_.failures()));
  return json_text(Fields().add("clientId", outbox_.client_id()).add("ops", array_document(ops)));
}

void Engine::set_server_offset(std::int64_t server_time, std::int64_t wall, std::vector<Bytes>* events,
                               bool catch_up) {
  const std::int64_t offset = server_time - wall;
  const std::int64_t previous = state_.has_server_time ? state_.server_offset_ms : 0;
  if (state_.has_server_time) {
    const std::int64_t latency = request_at_ >= 0 && !catch_up ? state_.last_update - request_at_ : 0;
    const std::int64_t drift = offset > previous ? offset - previous : previous - offset;
    if (drift > config_.clock_jump_tolerance_ms + latency) {
      metrics_.record_clock_jump();
      Fields detail;
      detail.add("kind", "server_offset").add("offsetMs", offset).add("previousOffsetMs", previous);
      audit("clock_jump", AuditSource::kSync, std::nullopt, std::nullopt, detail);
      events->push_back(detail.add("type", "clock_jump"));
    }
  }
  // The anchor moves with the offset, so the next judgement compares like with like.
  std::int64_t anchor = state_.last_wall + offset - previous;
  if (anchor < 0) anchor = 0;
  if (anchor > kMaxSafeInteger) anchor = kMaxSafeInteger;
  state_.last_wall = anchor;
  state_.server_offset_ms = offset;
  state_.has_server_time = true;
}

void Engine::settle_catch_up(std::int64_t server_time, std::vector<Bytes>* events) {
  if (state_.unconfirmed_since < 0) return;
  // Server time since the last judged observation, less what this page session counted by mono.
  const std::int64_t passed = server_time - state_.unconfirmed_since - (state_.last_update - state_.unconfirmed_at);
  const std::int64_t confirmed = passed > 0 ? passed : 0;
  const std::int64_t claimed = state_.unconfirmed_ms;
  const Units rate = state_.base_earning_rate;
  const bool active = state_.is_active;
  const std::int64_t from = state_.last_update;
  state_.last_update = saturating_add_ms(from, confirmed);
  state_.base_earning_rate = state_.unconfirmed_rate;
  state_.is_active = state_.unconfirmed_rate > 0;
  state_.unconfirmed_since = -1;
  state_.unconfirmed_ms = 0;
  state_.unconfirmed_rate = 0;
  metrics_.add_offline_ms(confirmed);
  // The closed time earns at the rate it was mining at, whatever this session set since. An
  // accrual that would overflow the largest amount is audited by accrue and adds nothing.
  accrue(confirmed, from, state_.last_update);
  state_.base_earning_rate = rate;
  state_.is_active = active;
  Fields detail;
  detail.add("claimedMs", claimed).add("confirmedMs", confirmed).add("refusedMs", claimed > confirmed ? claimed - confirmed : 0);
  audit("catch_up", AuditSource::kSync, std::nullopt, state_.current_earnings, detail);
  events->push_back(detail.add("type", "catch_up"));
}

// Read: the answer's shape and ranges, nothing judged against the engine yet but its user.
Status Engine::read_sync_answer(const std::string& answer_text, SyncAnswer* answer) const {
  auto parsed = Document::parse_json(answer_text, ErrorCode::kResponseInvalid);
  const Node doc = parsed.value().root();
  auto invalid = [](const std::string& message) { return Status(ErrorCode::kResponseInvalid, message); };
  if (!parsed.ok() || !doc.is_map()) return invalid("sync response is not a JSON object");
  const Node results_field = doc.find("results");
  const Node state_field = doc.find("state");
  if (!results_field.is_array()) return invalid("results must be an array");
  if (!state_field.exists()) return invalid("state is missing");
  FieldReader read(doc, ErrorCode::kResponseInvalid);
  read.integer("serverTime", 0, &answer->server_time);
  if (!read.ok()) return invalid(read.status().message());
  auto server = parse_server_state(state_field);
  if (!server.ok()) return invalid(server.status().message());
  if (server.value().user_id != state_.user_id) {
    return invalid("sync response is for user " + std::to_string(server.value().user_id));
  }
  answer->server = server.value();
  for (Node entry : results_field.elements()) {
    auto result = parse_op_result(entry);
    if (!result.ok()) return invalid(result.status().message());
    answer->results.push_back(std::move(result.value()));
  }
  return Status::Ok();
}

// Plan: what the answer does, computed on copies, so an answer that fails any check changes
// nothing.
Status Engine::plan_sync_answer(std::int64_t now, SyncPlan* plan) const {
  auto answers = plan->outbox.apply_results(plan->answer.results, now);
  if (!answers.ok()) return Status(ErrorCode::kResponseInvalid, answers.status().message());
  plan->outbox.observe_server_last_seq(plan->answer.server.last_seq);
  for (const OpAnswer& op_answer : answers.value()) {
    if (op_answer.result.status == OpOutcome::kApplied) plan->credited += op_answer.result.credited;
  }
  auto expected = add_amounts(state_.synced_total, plan->credited);
  if (!expected.ok()) return Status(ErrorCode::kResponseInvalid, "credited amounts overflow");
  EarningsState candidate = state_;
  candidate.pending = plan->outbox.pending_units();
  auto resolution = resolve_conflicts(candidate, plan->answer.server, expected.value(), tolerance_units(), now);
  if (!resolution.ok()) return Status(ErrorCode::kResponseInvalid, resolution.status().message());
  plan->answers = std::move(answers.value());
  plan->expected = expected.value();
  plan->resolution = std::move(resolution.value());
  return Status::Ok();
}

Result<std::string> Engine::apply_sync_response(const std::string& answer_text, std::int64_t wall,
                                                std::int64_t mono) {
  close_journal();
  auto observed = observe(wall, mono);
  if (!observed.ok()) return observed.status();
  SyncPlan plan(outbox_);
  Status refused = read_sync_answer(answer_text, &plan.answer);
  if (refused.ok()) refused = plan_sync_answer(state_.last_update, &plan);
  if (!refused.ok()) {
    invalid_response_ = true;
    audit_error("apply_sync_response", refused, Fields().add("bytes", answer_text.size()));
    return refused;
  }
  return commit_sync_answer(plan, wall);
}

// Commit: the planned outbox and the server's row become the engine's; every op's outcome is
// counted, audited and raised as an event.
std::string Engine::commit_sync_answer(SyncPlan& plan, std::int64_t wall) {
  const std::int64_t now = state_.last_update;
  const ServerState& server = plan.answer.server;
  invalid_response_ = false;
  std::vector<Bytes> events;
  set_server_offset(plan.answer.server_time, wall, &events, false);
  const Units before = state_.current_earnings;
  outbox_ = std::move(plan.outbox);
  const EarningsState& resolved = plan.resolution.state;
  adopt_server_rate(resolved.base_earning_rate);
  state_.synced_total = resolved.synced_total;
  state_.under_review = resolved.under_review;
  state_.review_flag = resolved.review_flag;

  std::int64_t counts[sizeof(kOutcomes) / sizeof(kOutcomes[0])] = {};
  for (const OpAnswer& answer : plan.answers) {
    const OpResult& r = answer.result;
    metrics_.record_op_outcome(r.status);
    ++counts[static_cast<std::size_t>(r.status)];
    // The answer's id and seq are the op's: apply_results matched them.
    Fields event = op_summary(outbox_, answer.op,
                              r.status == OpOutcome::kReview ? "review_needed" : to_string(r.status));
    switch (r.status) {
      case OpOutcome::kApplied:
      case OpOutcome::kDuplicate:
        event.amount("credited", r.credited).amount("review", r.review);
        break;
      case OpOutcome::kReview:
        event.amount("review", r.review != 0 ? r.review : answer.op.amount);
        break;
      case OpOutcome::kRejected:
        event.add("code", r.code).add("reason", r.reason);
        break;
      case OpOutcome::kGap:
        event.add("expectedSeq", r.expected_seq);
        break;
    }
    events.push_back(event);
    // A rejected op, or the part of an answered one counted on another device (refused), audited
    // as a rejection of that amount.
    const Units rejected = r.status == OpOutcome::kRejected ? answer.op.amount : r.refused;
    if (rejected > 0 && !answer.inconsistent) {
      audit("sync_rejected", AuditSource::kSync, rejected, std::nullopt,
            Fields().add("id", r.id).add("code", r.code).add("reason", r.reason));
    }
    if (r.status == OpOutcome::kApplied && r.review > 0) {
      events.push_back(Fields().add("type", "review_needed").add("id", r.id).amount("review", r.review));
    }
    if (answer.inconsistent) {
      ConflictRecord record = new_conflict(now, "inconsistent_answer", state_, server, plan.expected);
      record.difference = answer.op.amount - r.credited - r.review;
      record.context = Fields()
                           .add("reason", "credited + review does not match the amount sent")
                           .add("op", op_summary(outbox_, answer.op, to_string(answer.op.type)))
                           .add("status", to_string(r.status))
                           .amount("credited", r.credited)
                           .amount("review", r.review);
      state_.review_flag = true;
      record_conflict(std::move(record), before, std::nullopt, &r.id, &events);
    }
  }
  if (plan.resolution.conflict) {
    const ConflictRecord& lost = *plan.resolution.conflict;
    record_conflict(lost, lost.local_current, lost.server_total, nullptr, &events);
  }

  const std::int64_t latency = request_at_ >= 0 ? now - request_at_ : 0;
  metrics_.record_sync_success(latency);
  request_at_ = -1;
  backoff_.reset();
  settle_catch_up(plan.answer.server_time, &events);
  refresh_from_outbox();
  audit("sync_applied", AuditSource::kSync, before, state_.current_earnings,
        Fields()
            .add("counts", [&counts] {
              Fields by_outcome;
              for (OpOutcome outcome : kOutcomes) {
                by_outcome.add(to_string(outcome), counts[static_cast<std::size_t>(outcome)]);
              }
              return by_outcome;
            }())
            .amount("credited", plan.credited)
            .amount("serverTotal", server.total_earned)
            .amount("pendingReview", server.pending_review)
            .add("lastSeq", server.last_seq)
            .add("latencyMs", latency));
  return json_text(Fields().add("events", array_document(events)));
}

void Engine::record_conflict(ConflictRecord record, std::optional<Units> old_value,
                             std::optional<Units> new_value, const std::string* op_id,
                             std::vector<Bytes>* events) {
  metrics_.record_conflict();
  audit("conflict", AuditSource::kReconciliation, old_value, new_value, record.context);
  Fields event;
  event.add("type", "conflict").add("kind", record.kind);
  if (op_id != nullptr) event.add("id", *op_id);
  events->push_back(event.amount("difference", record.difference));
  conflicts_.add(std::move(record));
}

Result<std::string> Engine::apply_sync_failure(std::int64_t http_status, std::int64_t wall,
                                               std::int64_t mono, const std::string& answer_text) {
  close_journal();
  if (http_status != 0 && (http_status < 100 || http_status > 599)) {
    Status status(ErrorCode::kRequestInvalid, "http status must be 0 (network) or 100..599");
    audit_error("apply_sync_failure", status, Fields().add("httpStatus", http_status));
    return status;
  }
  auto observed = observe(wall, mono);
  if (!observed.ok()) return observed.status();
  // Only the sync server's own protocol can refuse earnings for good: a 4xx whose body is its
  // error shape with a code that says the request itself is wrong. A proxy's 404, a static
  // host's 405, HTML, an unknown code or a misrouted endpoint are transport failures: the ops
  // stay and are retried, so a misconfiguration never erases earnings.
  SyncRefusal refusal;
  auto parsed = Document::parse_json(answer_text, ErrorCode::kResponseInvalid);
  const Node error = parsed.ok() ? parsed.value().root().find("error") : Node();
  if (error.find("code").is_string() && error.find("message").is_string()) {
    refusal.code = error.find("code").text();
    refusal.message = error.find("message").text().substr(0, 200);
  }
  refusal.permanent = http_status >= 400 && http_status < 500 && is_permanent_refusal(refusal.code);
  SyncFailureKind kind = SyncFailureKind::kServer;
  if (invalid_response_) {
    kind = SyncFailureKind::kResponseInvalid;
  } else if (http_status == 0) {
    kind = SyncFailureKind::kNetwork;
  } else if (http_status == 408) {
    kind = SyncFailureKind::kTimeout;
  } else if (http_status == 429) {
    kind = SyncFailureKind::kRateLimited;
  } else if (refusal.permanent) {
    kind = SyncFailureKind::kRejected;
  }
  invalid_response_ = false;
  return fail_attempt(kind, http_status, refusal);
}

Result<std::string> Engine::fail_attempt(SyncFailureKind kind, std::int64_t http_status,
                                         const SyncRefusal& refusal) {
  const bool permanent = refusal.permanent;
  const std::int64_t now = state_.last_update;
  metrics_.record_sync_failure(kind);
  std::vector<Bytes> events;
  std::int64_t retry_in = 0;
  if (permanent) {
    const std::vector<OutboxOp> rejected = outbox_.reject_sent(refusal.code, refusal.message, now);
    for (const OutboxOp& op : rejected) {
      metrics_.record_op_outcome(OpOutcome::kRejected);
      events.push_back(
          op_summary(outbox_, op, "rejected").add("code", refusal.code).add("reason", refusal.message));
      audit("sync_rejected", AuditSource::kSync, op.amount, std::nullopt,
            Fields()
                .add("id", outbox_.op_id(op))
                .add("code", refusal.code)
                .add("reason", refusal.message)
                .add("httpStatus", http_status));
    }
    backoff_.reset();
  } else {
    retry_in = backoff_.on_failure(backoff_policy(), now, random_);
  }
  request_at_ = -1;
  const bool failed = backoff_.failed(backoff_policy());
  refresh_from_outbox();
  audit("sync_failed", AuditSource::kSync, std::nullopt, std::nullopt,
        Fields()
            .add("httpStatus", http_status)
            .add("kind", to_string(kind))
            .add("permanent", permanent)
            .add("attempt", backoff_.failures())
            .add("retryInMs", retry_in)
            .add("failed", failed)
            .add("state", state_to_document(state_))
            .add("queueDepth", outbox_.depth()));
  Fields reply;
  reply.add("retryInMs", retry_in).add("failed", failed).add("permanent", permanent);
  if (!refusal.code.empty()) reply.add("code", refusal.code).add("message", refusal.message);
  return json_text(reply.add("events", array_document(events)));
}

Result<std::int64_t> Engine::sync_due_in_ms(std::int64_t wall, std::int64_t mono) const {
  const ClockAnchor last{state_.has_clock, state_.last_wall, state_.last_mono};
  auto judged = judge_elapsed(last, ClockReading{wall, mono}, state_.server_offset_ms,
                              state_.has_server_time, config_.clock_jump_tolerance_ms, new_session_);
  if (!judged.ok()) return judged.status();
  std::int64_t now = saturating_add_ms(state_.last_update, judged.value().elapsed_ms);
  if (judged.value().event == ClockEvent::kFirst && now < judged.value().anchor.wall) {
    now = judged.value().anchor.wall;
  }
  if (backoff_.waiting() && backoff_.ms_until_retry(now) > 0) return backoff_.ms_until_retry(now);
  if (outbox_.empty()) return config_.sync_interval_ms;
  if (sync_now_ || backoff_.waiting() || outbox_.has_unsent()) return 0;
  if (outbox_.has_outstanding()) {
    // Sent and never answered (the page may have been closed mid-request): ask again after an
    // interval; the ids are the same, so the server answers duplicates where it already applied.
    return request_at_ < 0 ? 0 : std::max<std::int64_t>(0, request_at_ + config_.sync_interval_ms - now);
  }
  if (dirty_since_ < 0) return 0;
  return std::max<std::int64_t>(0, dirty_since_ + config_.sync_interval_ms - now);
}

Status Engine::on_online(std::int64_t wall, std::int64_t mono) {
  close_journal();
  auto observed = observe(wall, mono);
  if (!observed.ok()) return observed.status();
  backoff_.release(state_.last_update);
  sync_now_ = true;
  return Status::Ok();
}

// Read: GET /v1/state's answer {"state":{row},"serverTime":n}, or the bare row (no server time).
Status Engine::read_state_answer(const std::string& answer_text, StateAnswer* answer) const {
  auto parsed_answer = Document::parse_json(answer_text, ErrorCode::kResponseInvalid);
  const Node doc = parsed_answer.value().root();
  if (!parsed_answer.ok() || !doc.is_map()) {
    return Status(ErrorCode::kResponseInvalid, "server state is not a JSON object");
  }
  const Node state_field = doc.find("state");
  const Node row = state_field.exists() ? state_field : doc;
  if (doc.find("serverTime").exists()) {
    FieldReader read(doc, ErrorCode::kResponseInvalid);
    read.integer("serverTime", 0, &answer->server_time);
    if (!read.ok()) return Status(ErrorCode::kResponseInvalid, read.status().message());
  }
  auto server = parse_server_state(row);
  if (!server.ok()) return Status(ErrorCode::kResponseInvalid, server.status().message());
  if (server.value().user_id != state_.user_id) {
    return Status(ErrorCode::kRecordUserMismatch,
                  "server state is for user " + std::to_string(server.value().user_id));
  }
  answer->server = server.value();
  answer->bytes = answer_text.size();
  return Status::Ok();
}

Result<std::string> Engine::recover_from_server(const std::string& answer_text,
                                                const std::string& new_client_id,
                                                std::int64_t wall, std::int64_t mono) {
  close_journal();
  StateAnswer answer;
  Status read = read_state_answer(answer_text, &answer);
  if (!read.ok()) return refuse_recovery(read, answer_text.size());
  if (!new_client_id.empty() && !is_valid_client_id(new_client_id)) {
    return refuse_recovery(
        Status(ErrorCode::kRequestInvalid, kClientIdRule),
        answer_text.size());
  }
  if (wall < 0 || wall > kMaxSafeInteger || mono < 0 || mono > kMaxSafeInteger) {
    return refuse_recovery(Status(ErrorCode::kTimeInvalid, "wall and mono must be safe integers >= 0 ms"),
                           answer_text.size());
  }
  const std::string& client_id = new_client_id.empty() ? outbox_.client_id() : new_client_id;
  return state_.has_clock ? reconcile_with_server(answer, client_id, wall, mono)
                          : start_from_server(answer, client_id, wall, mono);
}

Status Engine::refuse_recovery(const Status& status, std::size_t answer_bytes) {
  audit_error("recover_from_server", status, Fields().add("bytes", answer_bytes));
  return status;
}

// Nothing was ever observed here: the local record was lost or corrupt, or this is a new device.
// Start from the server's row; when its clock is known, the time since the row's lastUpdate is
// offline time like any other (accrued, capped, held beyond the cap).
Result<std::string> Engine::start_from_server(const StateAnswer& answer, const std::string& client_id,
                                              std::int64_t wall, std::int64_t mono) {
  const ServerState& s = answer.server;
  // Plan: the new state and outbox, checked before either replaces the engine's.
  auto recovered = recover_state_from_server(s, state_.user_id, s.last_update);
  if (!recovered.ok()) return refuse_recovery(recovered.status(), answer.bytes);
  const ValidationResult check = validate_recovered_data(recovered.value());
  if (!check.ok) return refuse_recovery(check.status(), answer.bytes);
  Outbox fresh(client_id);
  fresh.rebind(client_id, s.last_seq + 1);
  EarningsState next = recovered.value();
  next.budget_ms = config_.tolerance_ms;
  if (answer.server_time >= 0) {
    next.server_offset_ms = answer.server_time - wall;
    next.has_server_time = true;
    if (s.last_update > 0) {
      next.has_clock = true;
      next.last_wall = s.last_update;
      next.last_mono = mono;
    }
  }
  // Commit.
  outbox_ = std::move(fresh);
  state_ = next;
  if (state_.has_clock) new_session_ = true;
  audit("recovery", AuditSource::kReconciliation, std::nullopt, state_.current_earnings,
        Fields()
            .amount("serverTotal", s.total_earned)
            .add("lastSeq", s.last_seq)
            .add("clientId", outbox_.client_id()));
  auto observed = observe(wall, mono);
  if (!observed.ok()) return observed.status();
  std::vector<Bytes> events;
  settle_catch_up(answer.server_time, &events);
  refresh_from_outbox();
  events.push_back(Fields().add("type", "recovered").amount("total", s.total_earned));
  return json_text(Fields().add("events", array_document(events)));
}

// The server's row against a record that has run here: what is owed is rebased on the row.
Result<std::string> Engine::reconcile_with_server(const StateAnswer& answer, const std::string& client_id,
                                                  std::int64_t wall, std::int64_t mono) {
  const ServerState& s = answer.server;
  std::vector<Bytes> events;
  // The clocks first, since what is owed depends on the time accrued up to now. The first answer
  // after a reload judges the catch-up (the time the app was closed, held by observe) by the
  // server's clock, when the record knew it: a device clock moved while the app was closed counts
  // for nothing (and is reported as a clock jump).
  auto observed = observe(wall, mono);
  if (!observed.ok()) return observed.status();
  const bool catch_up = state_.unconfirmed_since >= 0;
  if (answer.server_time >= 0) {
    settle_catch_up(answer.server_time, &events);
    set_server_offset(answer.server_time, wall, &events, catch_up);
  }
  const std::int64_t now = state_.last_update;

  // Plan, on copies: under a new client id the ops sent under the old one are orphaned (never
  // resent, which could credit them twice) and the rest renumbered from the server's lastSeq.
  const bool new_client = client_id != outbox_.client_id();
  Outbox next_outbox = outbox_;
  std::vector<OutboxOp> orphaned;
  if (new_client) {
    orphaned = next_outbox.take_sent();
    next_outbox.rebind(client_id, s.last_seq + 1);
  } else {
    next_outbox.observe_server_last_seq(s.last_seq);
  }
  EarningsState local = state_;
  take_outbox_totals(next_outbox, &local);
  if (!orphaned.empty()) local.review_flag = true;
  auto resolution = resolve_conflicts(local, s, state_.synced_total, tolerance_units(), now);
  if (!resolution.ok()) return refuse_recovery(resolution.status(), answer.bytes);

  // Commit.
  const Units before = state_.current_earnings;
  if (!orphaned.empty()) {
    ConflictRecord record = new_conflict(now, "orphaned_ops", state_, s, state_.synced_total);
    std::vector<Bytes> ops;
    for (const OutboxOp& op : orphaned) {
      record.difference += op.amount;
      ops.push_back(op_summary(outbox_, op, to_string(op.type)));
    }
    record.context = Fields()
                         .add("reason", "sent under the previous client id and never answered; "
                                        "resending under a new id could credit them twice")
                         .add("ops", array_document(ops))
                         .add("newClientId", client_id);
    record_conflict(std::move(record), before, std::nullopt, nullptr, &events);
    state_.review_flag = true;
  }
  outbox_ = std::move(next_outbox);
  refresh_from_outbox();
  if (resolution.value().conflict) {
    const ConflictRecord& lost = *resolution.value().conflict;
    record_conflict(lost, lost.local_current, lost.server_total, nullptr, &events);
  }
  const EarningsState& resolved = resolution.value().state;
  adopt_server_rate(resolved.base_earning_rate);
  state_.synced_total = resolved.synced_total;
  state_.under_review = resolved.under_review;
  state_.review_flag = state_.review_flag || resolved.review_flag;
  refresh_from_outbox();
  audit("reconciliation", AuditSource::kReconciliation, before, state_.current_earnings,
        Fields()
            .amount("serverTotal", s.total_earned)
            .add("lastSeq", s.last_seq)
            .add("clientId", outbox_.client_id()));
  return json_text(Fields().add("events", array_document(events)));
}

void Engine::report_corruption(const std::string& detail) {
  close_journal();
  metrics_.record_corruption();
  audit("corruption_detected", AuditSource::kLocal, std::nullopt, std::nullopt,
        Fields().add("detail", detail.substr(0, 256)));
  push_event(Fields().add("type", "corruption").add("detail", detail.substr(0, 256)));
}

// ---- storage ----

Bytes Engine::to_document() { return record_document(journal_generation_); }

Bytes Engine::record_document(std::int64_t generation) {
  flush_accrual_audit();
  return Fields()
      .add(kRecordUserKey, state_.user_id)
      .add("state", state_to_document(state_))
      .add("outbox", outbox_.to_document())
      .add("audit", audit_.to_document())
      .add("metrics", metrics_.to_document())
      .add("conflicts", conflicts_.to_document())
      .add("backoff", backoff_.to_document())
      .add("rng", rng_to_text(random_.state()))
      .add("dirtySince", dirty_since_)
      .add("requestAt", request_at_)
      .add("syncNow", sync_now_)
      .add("journal", generation);
}

Result<Bytes> Engine::serialize() { return encode_record(to_document()); }

// ---- the tap journal ----

void Engine::log_call(bool replayable, const JournalCall& call) {
  if (replaying_) return;
  // A refused call changed only the audit log and metrics (refusals are rare): a checkpoint
  // stores them.
  if (!replayable || !journal_calls_.push(call)) close_journal();
}

void Engine::close_journal() {
  journal_closed_ = true;
  closed_since_snapshot_ = true;
}

std::uint32_t Engine::fingerprint() const {
  const Bytes state = state_to_document(state_);
  const std::uint32_t depth = static_cast<std::uint32_t>(outbox_.depth());
  return crc32(reinterpret_cast<const std::uint8_t*>(&depth), sizeof depth, crc32(state.data(), state.size()));
}

Result<Bytes> Engine::checkpoint() {
  const std::int64_t generation = journal_generation_ + 1;
  auto bytes = encode_record(record_document(generation));
  if (!bytes.ok()) return bytes;
  pending_write_ = PendingWrite{true, journal_calls_.size, fingerprint(), generation};
  closed_since_snapshot_ = false;
  return bytes;
}

std::optional<Bytes> Engine::journal_entry() {
  if (journal_closed_ || journal_generation_ == 0 || journal_seq_ >= kJournalEntriesPerCheckpoint) {
    return std::nullopt;
  }
  if (journal_calls_.size == 0) return Bytes();
  JournalEntry entry{state_.user_id, journal_generation_, journal_seq_, journal_print_, fingerprint(), {}};
  auto bytes = encode_journal_entry(entry, journal_calls_);
  if (!bytes.ok()) return std::nullopt;
  pending_write_ = PendingWrite{false, journal_calls_.size, entry.after, journal_generation_};
  return std::move(bytes).value();
}

void Engine::stored() {
  if (!pending_write_) return;
  const PendingWrite& write = *pending_write_;
  if (write.checkpoint) {
    journal_generation_ = write.generation;
    journal_seq_ = 0;
    journal_closed_ = closed_since_snapshot_;
  } else {
    ++journal_seq_;
  }
  journal_calls_.drop_front(write.calls);
  journal_print_ = write.print;
  pending_write_.reset();
}

Status Engine::replay_journal_entry(const Bytes& bytes) {
  auto decoded = decode_journal_entry(bytes, state_.user_id);
  if (!decoded.ok()) return decoded.status();
  const JournalEntry& entry = decoded.value();
  auto refused = [](const std::string& why) {
    return Status(ErrorCode::kRecordCorrupt, "journal entry " + why);
  };
  // Another checkpoint's entry, a gap or a duplicate: never applied (a duplicate would count twice).
  if (entry.generation != journal_generation_) return refused("follows another checkpoint");
  if (entry.seq != journal_seq_) return refused(entry.seq < journal_seq_ ? "is a duplicate" : "comes after a gap");
  if (entry.before != journal_print_) return refused("does not follow the state stored before it");
  std::vector<Bytes> told = std::move(events_);
  events_.clear();
  replaying_ = true;
  for (std::size_t i = 0; i < entry.calls.size; ++i) {
    const JournalCall& call = entry.calls.items[i];
    new_session_ = call.fresh;
    if (call.kind == JournalCallKind::kTick) {
      (void)tick(call.wall, call.mono);
    } else {
      (void)add_earnings(format_amount(call.amount), call.wall, call.mono);
    }
  }
  replaying_ = false;
  events_ = std::move(told);
  new_session_ = true;
  if (fingerprint() != entry.after) return refused("does not replay to the state it recorded");
  journal_seq_ = entry.seq + 1;
  journal_print_ = entry.after;
  return Status::Ok();
}

Result<Engine> Engine::restore(const Bytes& bytes, std::int64_t user_id, const EngineConfig& config) {
  if (user_id <= 0 || user_id > kMaxSafeInteger) {
    return Status(ErrorCode::kUserIdInvalid, "userId must be a positive safe integer");
  }
  Status valid = validate_config(config);
  if (!valid.ok()) return valid;
  auto decoded = decode_record_for_user(bytes, user_id);
  if (!decoded.ok()) return decoded.status();
  const Node doc = decoded.value().root();
  auto corrupt = [](const std::string& message) {
    return Status(ErrorCode::kRecordCorrupt, "record: " + message);
  };
  const char* required[] = {"state", "outbox", "audit", "metrics", "conflicts", "backoff", "rng"};
  for (const char* key : required) {
    if (!doc.find(key).exists()) return corrupt(std::string(key) + " is missing");
  }
  auto state = state_from_document(doc.find("state"));
  if (!state.ok()) return corrupt(state.status().message());
  if (state.value().user_id != user_id) {
    return Status(ErrorCode::kRecordUserMismatch, "record state belongs to another user");
  }
  auto outbox = Outbox::from_document(doc.find("outbox"));
  if (!outbox.ok()) return corrupt(outbox.status().message());
  auto audit = AuditLog::from_document(doc.find("audit"));
  if (!audit.ok()) return corrupt(audit.status().message());
  auto metrics = Metrics::from_document(doc.find("metrics"));
  if (!metrics.ok()) return corrupt(metrics.status().message());
  auto conflicts = ConflictLog::from_document(doc.find("conflicts"));
  if (!conflicts.ok()) return corrupt(conflicts.status().message());
  auto backoff = Backoff::from_document(doc.find("backoff"));
  if (!backoff.ok()) return corrupt(backoff.status().message());
  std::uint64_t rng_state = 0;
  const Node rng = doc.find("rng");
  if (!rng.is_string() || !rng_from_text(rng.text(), &rng_state)) {
    return corrupt("rng must be 16 lowercase hex digits");
  }
  std::int64_t dirty_since = 0;
  std::int64_t request_at = 0;
  bool sync_now = false;
  FieldReader read(doc, ErrorCode::kRecordCorrupt);
  read.integer("dirtySince", -1, &dirty_since);
  read.integer("requestAt", -1, &request_at);
  read.boolean("syncNow", &sync_now);
  // A record stored before the tap journal has no generation: no entry follows it.
  std::int64_t generation = 0;
  if (doc.find("journal").exists()) read.integer("journal", 0, &generation);
  if (!read.ok()) return corrupt("dirtySince, requestAt, syncNow or journal is missing or mistyped");
  const EarningsState& s = state.value();
  if (s.pending != outbox.value().pending_units() || s.held_for_verification != outbox.value().held_units() ||
      s.unsynced_ms != outbox.value().accrued_ms()) {
    return corrupt("state totals do not match the outbox");
  }
  Engine engine;
  engine.config_ = config;
  engine.state_ = s;
  engine.outbox_ = std::move(outbox.value());
  engine.state_.rejected_total = engine.outbox_.rejected_total();
  engine.audit_ = std::move(audit.value());
  engine.metrics_ = std::move(metrics.value());
  engine.conflicts_ = std::move(conflicts.value());
  engine.backoff_ = backoff.value();
  engine.random_ = SeededRandom(rng_state);
  engine.dirty_since_ = dirty_since;
  engine.request_at_ = request_at;
  engine.sync_now_ = sync_now;
  engine.new_session_ = true;
  engine.journal_generation_ = generation;
  engine.journal_print_ = engine.fingerprint();
  return engine;
}

Status Engine::detect_corruption(const Bytes& bytes, std::int64_t user_id) {
  return restore(bytes, user_id, EngineConfig()).status();
}

std::string Engine::audit_json() {
  flush_accrual_audit();
  return json_text(audit_.entries_document());
}

std::string Engine::metrics_json() const {
  auto at_risk = add_amounts(state_.pending, state_.held_for_verification);
  return json_text(
      metrics_.to_document().add("kpis", kpis_to_document(metrics_.kpis(at_risk.ok() ? at_risk.value() : kMaxUnits))));
}

std::string Engine::conflicts_json() const {
  std::vector<Bytes> records;
  for (const ConflictRecord& record : conflicts_.records()) records.push_back(conflict_to_document(record));
  return json_text(array_document(records));
}

}  // namespace earnings
