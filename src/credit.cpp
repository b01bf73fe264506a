#include "credit.h"

#include <algorithm>
#include <utility>

#include "contract.h"
#include "json_fields.h"

namespace earnings {
namespace {

constexpr std::size_t kMaxClientIdLength = 64;

Status request_invalid(const std::string& what) {
  return Status(ErrorCode::kRequestInvalid, what);
}

Status state_invalid(const std::string& what) {
  return Status(ErrorCode::kStateInvalid, "user row: " + what);
}

bool valid_client_id(const std::string& id) {
  if (id.empty() || id.size() > kMaxClientIdLength) return false;
  for (char c : id) {
    const bool ok = (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') ||
                    c == '_' || c == '-';
    if (!ok) return false;
  }
  return true;
}

Result<Units> amount_member(const Node& object, const char* key, const std::string& field) {
  const Node found = object.find(key);
  if (!found.is_string()) return request_invalid(field + " must be a decimal string");
  auto units = parse_amount(found.text());
  if (!units.ok()) return request_invalid(field + ": " + units.status().message());
  return units;
}

Result<std::int64_t> integer_member(const Node& object, const char* key, std::int64_t min,
                                    const std::string& field) {
  const Node found = object.find(key);
  if (!found.exists()) return request_invalid(field + " is missing");
  auto value = json_fields::safe_integer_value(found, field, min);
  if (!value.ok()) return request_invalid(value.status().message());
  return value;
}

Result<SyncOp> parse_op(const Node& item, const std::string& client_id, const std::string& field) {
  if (!item.is_map()) return request_invalid(field + " must be an object");
  static const char* const kKeys[] = {"id", "seq", "type", "amount", "from", "to", "rate"};
  for (const Member& member : item.members()) {
    if (std::find_if(std::begin(kKeys), std::end(kKeys),
                     [&](const char* k) { return member.key == k; }) == std::end(kKeys)) {
      return request_invalid(field + " has an unknown member \"" + member.key.substr(0, 40) + "\"");
    }
  }
  SyncOp op;
  auto seq = integer_member(item, "seq", 1, field + ".seq");
  if (!seq.ok()) return seq.status();
  op.seq = seq.value();
  const Node id = item.find("id");
  if (!id.is_string()) return request_invalid(field + ".id must be a string");
  op.id = id.text();
  if (op.id != client_id + ":" + std::to_string(op.seq)) {
    return request_invalid(field + ".id must be \"clientId:seq\"");
  }
  const Node type = item.find("type");
  if (!type.is_string()) return request_invalid(field + ".type must be a string");
  const std::string kind = type.text();
  if (kind == "accrual") {
    op.type = SyncOpType::kAccrual;
  } else if (kind == "earnings_update") {
    op.type = SyncOpType::kEarningsUpdate;
  } else if (kind == "verification") {
    op.type = SyncOpType::kVerification;
  } else {
    return request_invalid(field + ".type must be accrual, earnings_update or verification");
  }
  auto amount = amount_member(item, "amount", field + ".amount");
  if (!amount.ok()) return amount.status();
  if (amount.value() <= 0) return request_invalid(field + ".amount must be greater than 0");
  op.amount = amount.value();
  auto from = integer_member(item, "from", 0, field + ".from");
  if (!from.ok()) return from.status();
  auto to = integer_member(item, "to", 0, field + ".to");
  if (!to.ok()) return to.status();
  if (from.value() > to.value()) return request_invalid(field + ".from must not be after .to");
  op.from_ms = from.value();
  op.to_ms = to.value();
  auto rate = amount_member(item, "rate", field + ".rate");
  if (!rate.ok()) return rate.status();
  if (rate.value() < 0) return request_invalid(field + ".rate must not be negative");
  op.claimed_rate = rate.value();
  return op;
}

bool time_in_range(std::int64_t ms) { return ms >= 0 && ms <= json_fields::kMaxSafeInteger; }

Status validate_row(const CreditRow& row) {
  auto in_range = [](Units u) { return u >= 0 && u <= kMaxUnits; };
  if (!in_range(row.total_earned)) return state_invalid("totalEarned out of range");
  if (!in_range(row.current_earnings)) return state_invalid("currentEarnings out of range");
  if (!in_range(row.rate_per_hour)) return state_invalid("baseEarningRate out of range");
  if (!in_range(row.pending_review)) return state_invalid("pendingReview out of range");
  if (!in_range(row.budget_settled)) return state_invalid("budgetSettled out of range");
  if (row.budget_anchor_ms && !time_in_range(*row.budget_anchor_ms)) {
    return state_invalid("budgetAnchor out of range");
  }
  if (!time_in_range(row.last_seq)) return state_invalid("lastSeq out of range");
  if (!row.budget_spent_by.empty() && !valid_client_id(row.budget_spent_by)) {
    return state_invalid("budgetSpentBy is not a client id");
  }
  if (!row.lease_client.empty() && !valid_client_id(row.lease_client)) {
    return state_invalid("leaseClientId is not a client id");
  }
  if (row.lease_until_ms && !time_in_range(*row.lease_until_ms)) return state_invalid("leaseUntil out of range");
  return Status::Ok();
}

// The lease after a sync of `request` at `now` (credit.h); true if the row's lease changed. A
// lease that lapsed is simply absent: clearing it needs no write. `fresh_ops`: the sync carried
// ops not answered before, which is how a client that states no intent holds it.
bool plan_lease(CreditPlan& plan, const CreditRequest& request, bool fresh_ops, std::int64_t now,
                const CreditConfig& config) {
  CreditRow& row = plan.row;
  if (row.lease_client.empty() || !row.lease_until_ms || *row.lease_until_ms <= now) {
    row.lease_client.clear();
    row.lease_until_ms.reset();
  }
  const std::string before = row.lease_client;
  const std::optional<std::int64_t> until_before = row.lease_until_ms;
  if (config.lease_ms > 0 && !request.client_id.empty()) {
    const bool mine = row.lease_client == request.client_id;
    const bool holds = request.lease == LeaseIntent::kHold ||
                       (request.lease == LeaseIntent::kUnstated && fresh_ops);
    if (request.lease == LeaseIntent::kTake || (holds && (mine || row.lease_client.empty()))) {
      row.lease_client = request.client_id;
      row.lease_until_ms = now + config.lease_ms;
    } else if (request.lease == LeaseIntent::kRelease && mine) {
      row.lease_client.clear();
      row.lease_until_ms.reset();
    }
  }
  plan.lease_held = !request.client_id.empty() && row.lease_client == request.client_id;
  return row.lease_client != before || row.lease_until_ms != until_before;
}

// Budget left when earning time has been spent up to `anchor`.
Units budget_left(Units rate, std::int64_t anchor, std::int64_t now, std::int64_t tolerance_ms) {
  return budget_for(rate, now + tolerance_ms - anchor);
}

Bytes credit_result_to_document(const CreditResult& result) {
  Fields out;
  out.add("id", result.id)
      .add("seq", result.seq)
      .add("status", to_string(result.status))
      .amount("credited", result.credited)
      .amount("review", result.review);
  if (result.refused > 0) {
    out.amount("refused", result.refused).add("code", kCountedOnAnotherDevice).add("reason", result.reason);
  } else if (result.status == OpStatus::kRejected) {
    out.add("code", to_string(result.code)).add("reason", result.reason);
  }
  if (result.status == OpStatus::kGap) out.add("expectedSeq", result.expected_seq);
  return out;
}

Bytes audit_to_document(const CreditAudit& audit) {
  Fields out;
  out.add("operation_type", audit.operation_type);
  if (audit.old_value) {
    out.amount("old_value", *audit.old_value);
  } else {
    out.add("old_value", nullptr);
  }
  if (audit.new_value) {
    out.amount("new_value", *audit.new_value);
  } else {
    out.add("new_value", nullptr);
  }
  out.add("source", to_string(audit.source)).add("metadata", audit.metadata).add("op_id", audit.op_id);
  return out;
}

Result<CreditConfig> config_from_document(const Node& input) {
  CreditConfig config;
  const Node found = input.find("config");
  if (!found.exists() || found.is_null()) return config;
  if (!found.is_map()) return Status(ErrorCode::kConfigInvalid, "config must be an object");
  auto integer = [&](const char* key, std::int64_t& target) -> Status {
    const Node member = found.find(key);
    if (!member.exists() || member.is_null()) return Status::Ok();
    auto value = json_fields::safe_integer_value(member, std::string("config.") + key, 0);
    if (!value.ok()) return Status(ErrorCode::kConfigInvalid, value.status().message());
    target = value.value();
    return Status::Ok();
  };
  Status status = integer("offlineCapMs", config.offline_cap_ms);
  if (!status.ok()) return status;
  status = integer("toleranceMs", config.tolerance_ms);
  if (!status.ok()) return status;
  std::int64_t max_batch = static_cast<std::int64_t>(config.max_batch);
  status = integer("maxBatch", max_batch);
  if (!status.ok()) return status;
  config.max_batch = static_cast<std::size_t>(std::min<std::int64_t>(max_batch, 1000000));
  status = integer("leaseMs", config.lease_ms);
  if (!status.ok()) return status;
  const Node max_rate = found.find("maxRatePerHour");
  if (max_rate.exists() && !max_rate.is_null()) {
    if (!max_rate.is_string()) {
      return Status(ErrorCode::kConfigInvalid, "config.maxRatePerHour must be a decimal string");
    }
    auto units = parse_non_negative_amount(max_rate.text());
    if (!units.ok()) {
      return Status(ErrorCode::kConfigInvalid, "config.maxRatePerHour: " + units.status().message());
    }
    config.max_rate_per_hour = units.value();
  }
  status = validate_credit_config(config);
  if (!status.ok()) return status;
  return config;
}

Result<std::int64_t> server_now_from_document(const Node& input) {
  const Node found = input.find("serverNow");
  if (!found.exists()) return Status(ErrorCode::kTimeInvalid, "serverNow is missing");
  auto now = json_fields::safe_integer_value(found, "serverNow", 0);
  if (!now.ok()) return Status(ErrorCode::kTimeInvalid, now.status().message());
  return now;
}

Result<Document> parse_input(const std::string& text) {
  auto input = Document::parse_json(text, ErrorCode::kRequestInvalid);
  if (!input.ok() || !input.value().root().is_map()) return request_invalid("input must be a JSON object");
  return input;
}

}  // namespace

const char* to_string(SyncOpType type) {
  switch (type) {
    case SyncOpType::kAccrual:
      return "accrual";
    case SyncOpType::kEarningsUpdate:
      return "earnings_update";
    case SyncOpType::kVerification:
      return "verification";
  }
  return "accrual";
}

const char* to_string(OpStatus status) {
  switch (status) {
    case OpStatus::kApplied:
      return "applied";
    case OpStatus::kDuplicate:
      return "duplicate";
    case OpStatus::kReview:
      return "review";
    case OpStatus::kRejected:
      return "rejected";
    case OpStatus::kGap:
      return "gap";
  }
  return "rejected";
}

const char* to_string(ReviewReason reason) {
  switch (reason) {
    case ReviewReason::kVerification:
      return "verification";
    case ReviewReason::kExceedsBudget:
      return "exceeds_budget";
  }
  return "exceeds_budget";
}

bool operator==(const CreditRow& a, const CreditRow& b) {
  return a.total_earned == b.total_earned && a.current_earnings == b.current_earnings &&
         a.rate_per_hour == b.rate_per_hour && a.budget_anchor_ms == b.budget_anchor_ms &&
         a.last_seq == b.last_seq && a.pending_review == b.pending_review &&
         a.budget_settled == b.budget_settled && a.budget_spent_by == b.budget_spent_by &&
         a.lease_client == b.lease_client && a.lease_until_ms == b.lease_until_ms;
}

Status validate_credit_config(const CreditConfig& config) {
  if (config.offline_cap_ms < 0 || config.offline_cap_ms > 30 * 24 * kMsPerHour) {
    return Status(ErrorCode::kConfigInvalid, "offlineCapMs must be between 0 and 30 days");
  }
  if (config.tolerance_ms < 0 || config.tolerance_ms > kMsPerHour) {
    return Status(ErrorCode::kConfigInvalid, "toleranceMs must be between 0 and 1 hour");
  }
  if (config.max_rate_per_hour < 0 || config.max_rate_per_hour > kMaxUnits) {
    return Status(ErrorCode::kConfigInvalid, "maxRatePerHour out of range");
  }
  if (config.max_batch < 1 || config.max_batch > 10000) {
    return Status(ErrorCode::kConfigInvalid, "maxBatch must be between 1 and 10000");
  }
  if (config.lease_ms < 0 || config.lease_ms > 24 * kMsPerHour) {
    return Status(ErrorCode::kConfigInvalid, "leaseMs must be between 0 and 1 day");
  }
  return Status::Ok();
}

Result<std::vector<SyncOp>> parse_sync_request(const Node& request, const CreditConfig& config) {
  if (!request.is_map()) return request_invalid("request must be an object");
  for (const Member& member : request.members()) {
    if (member.key != "clientId" && member.key != "ops" && member.key != "lease") {
      return request_invalid("request has an unknown member \"" + member.key.substr(0, 40) + "\"");
    }
  }
  const Node client = request.find("clientId");
  const std::string client_id = client.text();
  if (!client.is_string() || !valid_client_id(client_id)) {
    return request_invalid(kClientIdRule);
  }
  const Node list = request.find("ops");
  if (!list.is_array()) return request_invalid("ops must be an array");
  if (list.size() > config.max_batch) {
    return request_invalid("ops holds " + std::to_string(list.size()) + " ops, more than the " +
                           std::to_string(config.max_batch) + " allowed in one batch");
  }
  std::vector<SyncOp> ops;
  ops.reserve(list.size());
  for (Node item : list.elements()) {
    const std::string field = "ops[" + std::to_string(ops.size()) + "]";
    auto op = parse_op(item, client_id, field);
    if (!op.ok()) return op.status();
    if (!ops.empty() && op.value().seq <= ops.back().seq) {
      return request_invalid(field + ".seq must be greater than the previous op's seq");
    }
    ops.push_back(std::move(op).value());
  }
  return ops;
}

const char* const kCountedOnAnotherDevice = "COUNTED_ON_ANOTHER_DEVICE";

Result<LeaseIntent> parse_lease_intent(const Node& request) {
  const Node found = request.find("lease");
  if (!found.exists()) return LeaseIntent::kUnstated;
  const std::string intent = found.is_string() ? found.text() : std::string();
  if (intent == "hold") return LeaseIntent::kHold;
  if (intent == "take") return LeaseIntent::kTake;
  if (intent == "release") return LeaseIntent::kRelease;
  return request_invalid("lease must be \"hold\", \"take\" or \"release\"");
}

Result<CreditPlan> plan_credit(const CreditRow& row, const std::vector<SyncOp>& ops,
                               std::int64_t server_now, const CreditConfig& config,
                               const CreditRequest& request) {
  Status status = validate_credit_config(config);
  if (!status.ok()) return status;
  status = validate_row(row);
  if (!status.ok()) return status;
  if (!time_in_range(server_now)) {
    return Status(ErrorCode::kTimeInvalid, "serverNow must be a safe integer >= 0 ms");
  }
  const Units rate = std::min(row.rate_per_hour, config.max_rate_per_hour);
  const std::int64_t anchor = row.budget_anchor_ms.value_or(server_now);
  const std::int64_t start = std::max(anchor, server_now - config.offline_cap_ms);

  CreditPlan plan;
  plan.row = row;
  plan.row.budget_anchor_ms = anchor;
  std::int64_t spent_to = start;
  bool spent_any = false;
  Units settled_left = row.budget_settled;
  bool gap = false;
  bool fresh_ops = false;
  // The time before this anchor was paid to another client id of the user (credit.h).
  const bool paid_elsewhere = !request.client_id.empty() && !row.budget_spent_by.empty() &&
                              row.budget_spent_by != request.client_id && row.budget_anchor_ms;
  const std::int64_t paid_to =
      paid_elsewhere ? std::min(*row.budget_anchor_ms, server_now + config.tolerance_ms) : 0;

  for (const SyncOp& op : ops) {
    CreditResult result;
    result.id = op.id;
    result.seq = op.seq;
    if (gap || op.seq > plan.row.last_seq + 1) {
      gap = true;
      result.status = OpStatus::kGap;
      result.expected_seq = plan.row.last_seq + 1;
      plan.results.push_back(std::move(result));
      continue;
    }
    if (op.seq <= plan.row.last_seq) {
      result.status = OpStatus::kDuplicate;
      plan.results.push_back(std::move(result));
      continue;
    }
    fresh_ops = true;
    const std::int64_t anchor_before = spent_to;
    const Units budget = settled_left + budget_left(rate, spent_to, server_now, config.tolerance_ms);
    Units credited = 0;
    Units refused = 0;
    std::int64_t overlap_from = 0;
    std::int64_t overlap_to = 0;
    ReviewReason reason = ReviewReason::kExceedsBudget;
    if (op.type == SyncOpType::kVerification) {
      reason = ReviewReason::kVerification;
    } else {
      // Time another device was paid for is refused first, so a double claim never spends the
      // tolerance that absorbs an honest device's latency.
      overlap_from = std::max(op.from_ms, server_now - config.offline_cap_ms);
      overlap_to = std::min(op.to_ms, paid_to);
      if (paid_elsewhere && overlap_to > overlap_from) {
        // The claim's share of the shared time (rounded up), at most what that time is worth inside
        // the claimed interval (a difference of two rounded-down amounts, so an honest claim's
        // rounding never leaves a unit to review): a claim below the rate (taps) gives up only its
        // share, and one above it gives up the time's worth and the rest meets the budget.
        const std::int64_t claimed_ms = op.to_ms - op.from_ms;
        const std::int64_t shared_ms = overlap_to - overlap_from;
        const Units worth = budget_for(rate, claimed_ms) - budget_for(rate, claimed_ms - shared_ms);
        const __int128 share = (static_cast<__int128>(op.amount) * shared_ms + claimed_ms - 1) / claimed_ms;
        refused = std::min<Units>(worth, static_cast<Units>(std::min<__int128>(share, op.amount)));
      }
      credited = std::min(op.amount - refused, budget);
    }
    const Units review = op.amount - credited - refused;

    auto new_total = add_amounts(plan.row.total_earned, credited);
    auto new_current = add_amounts(plan.row.current_earnings, credited);
    auto new_pending = add_amounts(plan.row.pending_review, review);
    plan.row.last_seq = op.seq;
    if (!new_total.ok() || !new_current.ok() || !new_pending.ok()) {
      result.status = OpStatus::kRejected;
      result.code = ErrorCode::kAmountOverflow;
      result.reason = "crediting this op would take the total past 9999999999.99999999";
      CreditAudit audit;
      audit.operation_type = "op_rejected";
      audit.op_id = op.id;
      audit.metadata.add("seq", op.seq).add("code", to_string(result.code)).amount("amount", op.amount);
      plan.audit.push_back(std::move(audit));
      plan.results.push_back(std::move(result));
      continue;
    }

    if (refused > 0) {
      result.refused = refused;
      result.reason = "this time was already counted on another device of the user (" +
                      row.budget_spent_by + ")";
      CreditAudit audit;
      audit.operation_type = "op_rejected";
      audit.op_id = op.id;
      audit.metadata.add("seq", op.seq)
          .add("code", kCountedOnAnotherDevice)
          .amount("amount", refused)
          .add("countedOn", row.budget_spent_by)
          .add("overlapFrom", overlap_from)
          .add("overlapTo", overlap_to);
      plan.audit.push_back(std::move(audit));
      plan.refused += refused;
    }
    if (credited > 0) {
      CreditAudit audit;
      audit.operation_type = "credit";
      audit.old_value = plan.row.total_earned;
      audit.new_value = new_total.value();
      audit.op_id = op.id;
      audit.metadata.add("seq", op.seq)
          .add("type", to_string(op.type))
          .amount("claimed", op.amount)
          .amount("credited", credited)
          .amount("review", review)
          .amount("rate", rate);
      plan.audit.push_back(std::move(audit));
      const Units from_settled = std::min(credited, settled_left);
      settled_left -= from_settled;
      if (credited > from_settled) {
        spent_to += ms_to_earn(credited - from_settled, rate);
        spent_any = true;
        if (!request.client_id.empty()) plan.row.budget_spent_by = request.client_id;
      }
    }
    if (review > 0) {
      ReviewItem item;
      item.op_id = op.id;
      item.seq = op.seq;
      item.amount = review;
      item.reason = reason;
      item.context.add("type", to_string(op.type))
          .amount("claimed", op.amount)
          .amount("credited", credited)
          .amount("refused", refused)
          .add("claimedFrom", op.from_ms)
          .add("claimedTo", op.to_ms)
          .add("claimedMs", op.to_ms - op.from_ms)
          .amount("claimedRate", op.claimed_rate)
          .amount("rate", rate)
          .add("serverNow", server_now)
          .add("budgetAnchor", anchor_before)
          .add("serverElapsedMs", std::max<std::int64_t>(server_now - anchor_before, 0))
          .add("offlineCapMs", config.offline_cap_ms)
          .amount("budget", budget)
          .amount("budgetSettled", settled_left);
      CreditAudit audit;
      audit.operation_type = "review_queued";
      audit.old_value = plan.row.pending_review;
      audit.new_value = new_pending.value();
      audit.op_id = op.id;
      audit.metadata.add("seq", op.seq).add("reason", to_string(reason)).amount("amount", review);
      plan.audit.push_back(std::move(audit));
      plan.reviews.push_back(std::move(item));
    }
    plan.row.total_earned = new_total.value();
    plan.row.current_earnings = new_current.value();
    plan.row.pending_review = new_pending.value();
    result.status = credited > 0 || (refused > 0 && review > 0) ? OpStatus::kApplied
                    : refused > 0                             ? OpStatus::kRejected
                                                              : OpStatus::kReview;
    result.credited = credited;
    result.review = review;
    plan.credited += credited;
    plan.queued_for_review += review;
    plan.results.push_back(std::move(result));
  }
  if (spent_any) plan.row.budget_anchor_ms = spent_to;
  plan.row.budget_settled = settled_left;
  plan.lease_changed = plan_lease(plan, request, fresh_ops, server_now, config);
  return plan;
}

Result<RateChange> plan_rate_change(const CreditRow& row, Units rate, std::int64_t server_now,
                                    const CreditConfig& config) {
  Status status = validate_credit_config(config);
  if (!status.ok()) return status;
  status = validate_row(row);
  if (!status.ok()) return status;
  if (!time_in_range(server_now)) {
    return Status(ErrorCode::kTimeInvalid, "serverNow must be a safe integer >= 0 ms");
  }
  if (rate <= 0 || rate > config.max_rate_per_hour) {
    return Status(ErrorCode::kRateInvalid, "rate must be above 0 and at most maxRatePerHour (" +
                                               format_amount(config.max_rate_per_hour) + ")");
  }
  RateChange change;
  change.row = row;
  change.row.rate_per_hour = rate;
  change.previous_rate = std::min(row.rate_per_hour, config.max_rate_per_hour);
  if (row.budget_anchor_ms && *row.budget_anchor_ms < server_now) {
    const std::int64_t start = std::max(*row.budget_anchor_ms, server_now - config.offline_cap_ms);
    const Units earned = budget_for(change.previous_rate, server_now - start);
    const Units held = std::max(row.budget_settled, budget_for(change.previous_rate, config.offline_cap_ms));
    // Both terms are at most kMaxUnits, so the sum fits in int64 before it is held.
    change.row.budget_settled = std::min(row.budget_settled + earned, held);
    change.settled = change.row.budget_settled - row.budget_settled;
    change.settled_from_ms = start;
    change.row.budget_anchor_ms = server_now;
  }
  return change;
}

Result<ReviewDecision> plan_review_decision(const CreditRow& row, Units amount,
                                            const std::string& item_status, bool approve) {
  Status status = validate_row(row);
  if (!status.ok()) return status;
  if (item_status != "pending") {
    return request_invalid("review item was already decided (" + item_status.substr(0, 20) + ")");
  }
  if (amount <= 0 || amount > kMaxUnits) return request_invalid("review amount must be > 0");
  if (amount > row.pending_review) {
    return state_invalid("review amount is larger than the row's pendingReview");
  }
  ReviewDecision decision;
  decision.row = row;
  decision.approved = approve;
  decision.row.pending_review = row.pending_review - amount;
  if (approve) {
    auto total = add_amounts(row.total_earned, amount);
    if (!total.ok()) return total.status();
    auto current = add_amounts(row.current_earnings, amount);
    if (!current.ok()) return current.status();
    decision.row.total_earned = total.value();
    decision.row.current_earnings = current.value();
  }
  decision.audit.operation_type = approve ? "review_approved" : "review_rejected";
  decision.audit.source = AuditSource::kReconciliation;
  decision.audit.old_value = row.total_earned;
  decision.audit.new_value = decision.row.total_earned;
  decision.audit.metadata.amount("amount", amount)
      .amount("pendingReviewBefore", row.pending_review)
      .amount("pendingReviewAfter", decision.row.pending_review);
  return decision;
}

Bytes credit_row_to_document(const CreditRow& row) {
  Fields out;
  out.amount("totalEarned", row.total_earned)
      .amount("currentEarnings", row.current_earnings)
      .amount("baseEarningRate", row.rate_per_hour)
      .amount("pendingReview", row.pending_review)
      .amount("budgetSettled", row.budget_settled);
  if (row.budget_anchor_ms) {
    out.add("budgetAnchor", *row.budget_anchor_ms);
  } else {
    out.add("budgetAnchor", nullptr);
  }
  auto client_or_null = [&out](const char* key, const std::string& id) {
    if (id.empty()) {
      out.add(key, nullptr);
    } else {
      out.add(key, id);
    }
  };
  client_or_null("budgetSpentBy", row.budget_spent_by);
  client_or_null("leaseClientId", row.lease_client);
  if (row.lease_until_ms) {
    out.add("leaseUntil", *row.lease_until_ms);
  } else {
    out.add("leaseUntil", nullptr);
  }
  return out.add("lastSeq", row.last_seq);
}

Result<CreditRow> credit_row_from_document(const Node& value) {
  if (!value.is_map()) return state_invalid("must be an object");
  CreditRow row;
  auto amount = [&](const char* key, Units& target, bool required) -> Status {
    const Node found = value.find(key);
    if (!found.exists() || found.is_null()) {
      return required ? state_invalid(std::string(key) + " is missing") : Status::Ok();
    }
    if (!found.is_string()) return state_invalid(std::string(key) + " must be a decimal string");
    auto units = parse_non_negative_amount(found.text());
    if (!units.ok()) return state_invalid(std::string(key) + ": " + units.status().message());
    target = units.value();
    return Status::Ok();
  };
  Status status = amount("totalEarned", row.total_earned, true);
  if (!status.ok()) return status;
  row.current_earnings = row.total_earned;
  status = amount("currentEarnings", row.current_earnings, false);
  if (!status.ok()) return status;
  status = amount("baseEarningRate", row.rate_per_hour, true);
  if (!status.ok()) return status;
  status = amount("pendingReview", row.pending_review, false);
  if (!status.ok()) return status;
  status = amount("budgetSettled", row.budget_settled, false);
  if (!status.ok()) return status;
  const Node anchor = value.find("budgetAnchor");
  if (anchor.exists() && !anchor.is_null()) {
    auto ms = json_fields::safe_integer_value(anchor, "budgetAnchor", 0);
    if (!ms.ok()) return state_invalid(ms.status().message());
    row.budget_anchor_ms = ms.value();
  }
  const Node last_seq = value.find("lastSeq");
  if (last_seq.exists() && !last_seq.is_null()) {
    auto seq = json_fields::safe_integer_value(last_seq, "lastSeq", 0);
    if (!seq.ok()) return state_invalid(seq.status().message());
    row.last_seq = seq.value();
  }
  auto client = [&](const char* key, std::string& target) -> Status {
    const Node found = value.find(key);
    if (!found.exists() || found.is_null()) return Status::Ok();
    if (!found.is_string()) return state_invalid(std::string(key) + " must be a string");
    target = found.text();
    return Status::Ok();
  };
  status = client("budgetSpentBy", row.budget_spent_by);
  if (!status.ok()) return status;
  status = client("leaseClientId", row.lease_client);
  if (!status.ok()) return status;
  const Node lease_until = value.find("leaseUntil");
  if (lease_until.exists() && !lease_until.is_null()) {
    auto ms = json_fields::safe_integer_value(lease_until, "leaseUntil", 0);
    if (!ms.ok()) return state_invalid(ms.status().message());
    row.lease_until_ms = ms.value();
  }
  return row;
}

namespace {

// The answer's "lease": whether the requester holds it, and who does until when.
Bytes lease_document(const CreditPlan& plan) {
  Fields out;
  out.add("held", plan.lease_held);
  if (plan.row.lease_client.empty()) {
    out.add("clientId", nullptr).add("until", nullptr);
  } else {
    out.add("clientId", plan.row.lease_client).add("until", *plan.row.lease_until_ms);
  }
  return out;
}

}  // namespace

Bytes credit_plan_to_document(const CreditPlan& plan) {
  std::vector<Bytes> results;
  for (const CreditResult& result : plan.results) results.push_back(credit_result_to_document(result));
  std::vector<Bytes> audit;
  for (const CreditAudit& record : plan.audit) audit.push_back(audit_to_document(record));
  std::vector<Bytes> reviews;
  for (const ReviewItem& item : plan.reviews) {
    reviews.push_back(Fields()
                          .add("op_id", item.op_id)
                          .add("seq", item.seq)
                          .amount("amount", item.amount)
                          .add("reason", to_string(item.reason))
                          .add("context", item.context));
  }
  return Fields()
      .add("results", array_document(results))
      .add("row", credit_row_to_document(plan.row))
      .add("audit", array_document(audit))
      .add("reviews", array_document(reviews))
      .amount("credited", plan.credited)
      .amount("queuedForReview", plan.queued_for_review)
      .amount("refused", plan.refused)
      .add("lease", lease_document(plan))
      .add("leaseChanged", plan.lease_changed);
}

namespace {

// What every plan entry point reads first from its input (a JSON object): the user's row and,
// for a planner that counts time, the server's config and clock before it. The first fault found
// in that order is the one reported.
struct PlanInput {
  Document document;
  CreditConfig config;
  std::int64_t now = 0;
  CreditRow row;

  Node in() const { return document.root(); }
};

enum class PlanReads { kRow, kClockAndRow };

Result<PlanInput> read_plan_input(const std::string& text, PlanReads reads) {
  auto parsed = parse_input(text);
  if (!parsed.ok()) return parsed.status();
  PlanInput input;
  input.document = std::move(parsed.value());
  const Node in = input.in();
  if (reads == PlanReads::kClockAndRow) {
    auto config = config_from_document(in);
    if (!config.ok()) return config.status();
    input.config = config.value();
    auto now = server_now_from_document(in);
    if (!now.ok()) return now.status();
    input.now = now.value();
  }
  const Node row_field = in.find("row");
  if (!row_field.exists()) return state_invalid("row is missing");
  auto row = credit_row_from_document(row_field);
  if (!row.ok()) return row.status();
  input.row = std::move(row.value());
  return input;
}

}  // namespace

Result<std::string> plan_credit_json(const std::string& text) {
  auto input = read_plan_input(text, PlanReads::kClockAndRow);
  if (!input.ok()) return input.status();
  const PlanInput& read = input.value();
  const Node request = read.in().find("request");
  if (!request.exists()) return request_invalid("request is missing");
  auto ops = parse_sync_request(request, read.config);
  if (!ops.ok()) return ops.status();
  auto lease = parse_lease_intent(request);
  if (!lease.ok()) return lease.status();
  CreditRequest from;
  from.client_id = request.find("clientId").text();
  from.lease = lease.value();
  auto plan = plan_credit(read.row, ops.value(), read.now, read.config, from);
  if (!plan.ok()) return plan.status();
  return json_text(credit_plan_to_document(plan.value()));
}

Result<std::string> plan_review_decision_json(const std::string& text) {
  auto input = read_plan_input(text, PlanReads::kRow);
  if (!input.ok()) return input.status();
  const Node in = input.value().in();
  const Node item = in.find("item");
  if (!item.is_map()) return request_invalid("item must be an object");
  auto amount = amount_member(item, "amount", "item.amount");
  if (!amount.ok()) return amount.status();
  const Node item_status = item.find("status");
  if (!item_status.is_string()) return request_invalid("item.status must be a string");
  const Node approve = in.find("approve");
  if (!approve.is_boolean()) return request_invalid("approve must be a boolean");
  auto decision = plan_review_decision(input.value().row, amount.value(), item_status.text(),
                                       approve.boolean());
  if (!decision.ok()) return decision.status();
  CreditAudit audit = decision.value().audit;
  const Node id = item.find("id");
  if (id.is_integer() || id.is_string()) audit.metadata.add("reviewId", id.bytes());
  return json_text(Fields()
                       .add("row", credit_row_to_document(decision.value().row))
                       .add("status", decision.value().approved ? "approved" : "rejected")
                       .add("audit", array_document({audit_to_document(audit)})));
}

Result<std::string> plan_rate_change_json(const std::string& text) {
  auto input = read_plan_input(text, PlanReads::kClockAndRow);
  if (!input.ok()) return input.status();
  const PlanInput& read = input.value();
  const Node rate_field = read.in().find("rate");
  if (!rate_field.is_string()) return Status(ErrorCode::kRateInvalid, "rate must be a decimal string");
  auto rate = parse_non_negative_amount(rate_field.text());
  if (!rate.ok()) return Status(ErrorCode::kRateInvalid, "rate: " + rate.status().message());
  auto change = plan_rate_change(read.row, rate.value(), read.now, read.config);
  if (!change.ok()) return change.status();
  Fields out;
  out.add("row", credit_row_to_document(change.value().row))
      .amount("previousRate", change.value().previous_rate)
      .amount("settled", change.value().settled);
  if (change.value().settled_from_ms) {
    out.add("settledFromMs", *change.value().settled_from_ms);
  } else {
    out.add("settledFromMs", nullptr);
  }
  return json_text(out);
}

}  // namespace earnings
