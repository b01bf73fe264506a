#include "credit.h"

#include <algorithm>
#include <utility>

#include "json_fields.h"

namespace earnings {
namespace {

using nlohmann::json;

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

Result<Units> amount_member(const json& object, const char* key, const std::string& field) {
  auto found = object.find(key);
  if (found == object.end() || !found->is_string()) {
    return request_invalid(field + " must be a decimal string");
  }
  auto units = parse_amount(found->get_ref<const std::string&>());
  if (!units.ok()) return request_invalid(field + ": " + units.status().message());
  return units;
}

Result<std::int64_t> integer_member(const json& object, const char* key, std::int64_t min,
                                    const std::string& field) {
  auto found = object.find(key);
  if (found == object.end()) return request_invalid(field + " is missing");
  auto value = json_fields::safe_integer_value(*found, field, min);
  if (!value.ok()) return request_invalid(value.status().message());
  return value;
}

Result<SyncOp> parse_op(const json& item, const std::string& client_id, const std::string& field) {
  if (!item.is_object()) return request_invalid(field + " must be an object");
  static const char* const kKeys[] = {"id", "seq", "type", "amount", "from", "to", "rate"};
  for (auto it = item.begin(); it != item.end(); ++it) {
    if (std::find_if(std::begin(kKeys), std::end(kKeys),
                     [&](const char* k) { return it.key() == k; }) == std::end(kKeys)) {
      return request_invalid(field + " has an unknown member \"" + it.key().substr(0, 40) + "\"");
    }
  }
  SyncOp op;
  auto seq = integer_member(item, "seq", 1, field + ".seq");
  if (!seq.ok()) return seq.status();
  op.seq = seq.value();
  auto id = item.find("id");
  if (id == item.end() || !id->is_string()) return request_invalid(field + ".id must be a string");
  op.id = id->get<std::string>();
  if (op.id != client_id + ":" + std::to_string(op.seq)) {
    return request_invalid(field + ".id must be \"clientId:seq\"");
  }
  auto type = item.find("type");
  if (type == item.end() || !type->is_string()) return request_invalid(field + ".type must be a string");
  const std::string& kind = type->get_ref<const std::string&>();
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
  if (row.budget_anchor_ms && !time_in_range(*row.budget_anchor_ms)) {
    return state_invalid("budgetAnchor out of range");
  }
  if (!time_in_range(row.last_seq)) return state_invalid("lastSeq out of range");
  return Status::Ok();
}

// Budget left when earning time has been spent up to `anchor`.
Units budget_left(Units rate, std::int64_t anchor, std::int64_t now, std::int64_t tolerance_ms) {
  return budget_for(rate, now + tolerance_ms - anchor);
}

json credit_result_to_json(const CreditResult& result) {
  json out = json::object();
  out["id"] = result.id;
  out["seq"] = result.seq;
  out["status"] = to_string(result.status);
  out["credited"] = format_amount(result.credited);
  out["review"] = format_amount(result.review);
  if (result.status == OpStatus::kRejected) {
    out["code"] = to_string(result.code);
    out["reason"] = result.reason;
  }
  if (result.status == OpStatus::kGap) out["expectedSeq"] = result.expected_seq;
  return out;
}

json audit_to_json(const CreditAudit& audit) {
  json out = json::object();
  out["operation_type"] = audit.operation_type;
  out["old_value"] = audit.old_value ? json(format_amount(*audit.old_value)) : json(nullptr);
  out["new_value"] = audit.new_value ? json(format_amount(*audit.new_value)) : json(nullptr);
  out["source"] = to_string(audit.source);
  out["metadata"] = audit.metadata;
  out["op_id"] = audit.op_id;
  return out;
}

Result<CreditConfig> config_from_json(const json& input) {
  CreditConfig config;
  auto found = input.find("config");
  if (found == input.end() || found->is_null()) return config;
  if (!found->is_object()) return Status(ErrorCode::kConfigInvalid, "config must be an object");
  auto integer = [&](const char* key, std::int64_t& target) -> Status {
    auto member = found->find(key);
    if (member == found->end() || member->is_null()) return Status::Ok();
    auto value = json_fields::safe_integer_value(*member, std::string("config.") + key, 0);
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
  auto max_rate = found->find("maxRatePerHour");
  if (max_rate != found->end() && !max_rate->is_null()) {
    if (!max_rate->is_string()) {
      return Status(ErrorCode::kConfigInvalid, "config.maxRatePerHour must be a decimal string");
    }
    auto units = parse_non_negative_amount(max_rate->get_ref<const std::string&>());
    if (!units.ok()) {
      return Status(ErrorCode::kConfigInvalid, "config.maxRatePerHour: " + units.status().message());
    }
    config.max_rate_per_hour = units.value();
  }
  status = validate_credit_config(config);
  if (!status.ok()) return status;
  return config;
}

Result<std::int64_t> server_now_from_json(const json& input) {
  auto found = input.find("serverNow");
  if (found == input.end()) return Status(ErrorCode::kTimeInvalid, "serverNow is missing");
  auto now = json_fields::safe_integer_value(*found, "serverNow", 0);
  if (!now.ok()) return Status(ErrorCode::kTimeInvalid, now.status().message());
  return now;
}

Result<json> parse_input(const std::string& text) {
  json input = json_fields::parse_document(text);
  if (input.is_discarded() || !input.is_object()) {
    return request_invalid("input must be a JSON object");
  }
  return input;
}

std::string dump(const json& value) {
  return value.dump(-1, ' ', false, json::error_handler_t::replace);
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
         a.last_seq == b.last_seq && a.pending_review == b.pending_review;
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
  return Status::Ok();
}

Result<std::vector<SyncOp>> parse_sync_request(const json& request, const CreditConfig& config) {
  if (!request.is_object()) return request_invalid("request must be an object");
  for (auto it = request.begin(); it != request.end(); ++it) {
    if (it.key() != "clientId" && it.key() != "ops") {
      return request_invalid("request has an unknown member \"" + it.key().substr(0, 40) + "\"");
    }
  }
  auto client = request.find("clientId");
  if (client == request.end() || !client->is_string() ||
      !valid_client_id(client->get_ref<const std::string&>())) {
    return request_invalid("clientId must be 1 to 64 characters of [A-Za-z0-9_-]");
  }
  const std::string& client_id = client->get_ref<const std::string&>();
  auto list = request.find("ops");
  if (list == request.end() || !list->is_array()) return request_invalid("ops must be an array");
  if (list->size() > config.max_batch) {
    return request_invalid("ops holds " + std::to_string(list->size()) + " ops, more than the " +
                           std::to_string(config.max_batch) + " allowed in one batch");
  }
  std::vector<SyncOp> ops;
  ops.reserve(list->size());
  for (std::size_t k = 0; k < list->size(); ++k) {
    const std::string field = "ops[" + std::to_string(k) + "]";
    auto op = parse_op((*list)[k], client_id, field);
    if (!op.ok()) return op.status();
    if (!ops.empty() && op.value().seq <= ops.back().seq) {
      return request_invalid(field + ".seq must be greater than the previous op's seq");
    }
    ops.push_back(std::move(op).value());
  }
  return ops;
}

Result<CreditPlan> plan_credit(const CreditRow& row, const std::vector<SyncOp>& ops,
                               std::int64_t server_now, const CreditConfig& config) {
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
  bool gap = false;

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
    const std::int64_t anchor_before = spent_to;
    const Units budget = budget_left(rate, spent_to, server_now, config.tolerance_ms);
    Units credited = 0;
    ReviewReason reason = ReviewReason::kExceedsBudget;
    if (op.type == SyncOpType::kVerification) {
      reason = ReviewReason::kVerification;
    } else {
      credited = std::min(op.amount, budget);
    }
    const Units review = op.amount - credited;

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
      audit.metadata = {{"seq", op.seq}, {"code", to_string(result.code)},
                        {"amount", format_amount(op.amount)}};
      plan.audit.push_back(std::move(audit));
      plan.results.push_back(std::move(result));
      continue;
    }

    if (credited > 0) {
      CreditAudit audit;
      audit.operation_type = "credit";
      audit.old_value = plan.row.total_earned;
      audit.new_value = new_total.value();
      audit.op_id = op.id;
      audit.metadata = {{"seq", op.seq},
                        {"type", to_string(op.type)},
                        {"claimed", format_amount(op.amount)},
                        {"credited", format_amount(credited)},
                        {"review", format_amount(review)},
                        {"rate", format_amount(rate)}};
      plan.audit.push_back(std::move(audit));
      spent_to += ms_to_earn(credited, rate);
      spent_any = true;
    }
    if (review > 0) {
      ReviewItem item;
      item.op_id = op.id;
      item.seq = op.seq;
      item.amount = review;
      item.reason = reason;
      item.context = {{"type", to_string(op.type)},
                      {"claimed", format_amount(op.amount)},
                      {"credited", format_amount(credited)},
                      {"claimedFrom", op.from_ms},
                      {"claimedTo", op.to_ms},
                      {"claimedMs", op.to_ms - op.from_ms},
                      {"claimedRate", format_amount(op.claimed_rate)},
                      {"rate", format_amount(rate)},
                      {"serverNow", server_now},
                      {"budgetAnchor", anchor_before},
                      {"serverElapsedMs", std::max<std::int64_t>(server_now - anchor_before, 0)},
                      {"offlineCapMs", config.offline_cap_ms},
                      {"budget", format_amount(budget)}};
      CreditAudit audit;
      audit.operation_type = "review_queued";
      audit.old_value = plan.row.pending_review;
      audit.new_value = new_pending.value();
      audit.op_id = op.id;
      audit.metadata = {{"seq", op.seq}, {"reason", to_string(reason)},
                        {"amount", format_amount(review)}};
      plan.audit.push_back(std::move(audit));
      plan.reviews.push_back(std::move(item));
    }
    plan.row.total_earned = new_total.value();
    plan.row.current_earnings = new_current.value();
    plan.row.pending_review = new_pending.value();
    result.status = credited > 0 ? OpStatus::kApplied : OpStatus::kReview;
    result.credited = credited;
    result.review = review;
    plan.credited += credited;
    plan.queued_for_review += review;
    plan.results.push_back(std::move(result));
  }
  if (spent_any) plan.row.budget_anchor_ms = spent_to;
  return plan;
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
  decision.audit.metadata = {{"amount", format_amount(amount)},
                             {"pendingReviewBefore", format_amount(row.pending_review)},
                             {"pendingReviewAfter", format_amount(decision.row.pending_review)}};
  return decision;
}

json credit_row_to_json(const CreditRow& row) {
  json out = json::object();
  out["totalEarned"] = format_amount(row.total_earned);
  out["currentEarnings"] = format_amount(row.current_earnings);
  out["baseEarningRate"] = format_amount(row.rate_per_hour);
  out["pendingReview"] = format_amount(row.pending_review);
  out["budgetAnchor"] = row.budget_anchor_ms ? json(*row.budget_anchor_ms) : json(nullptr);
  out["lastSeq"] = row.last_seq;
  return out;
}

Result<CreditRow> credit_row_from_json(const json& value) {
  if (!value.is_object()) return state_invalid("must be an object");
  CreditRow row;
  auto amount = [&](const char* key, Units& target, bool required) -> Status {
    auto found = value.find(key);
    if (found == value.end() || found->is_null()) {
      return required ? state_invalid(std::string(key) + " is missing") : Status::Ok();
    }
    if (!found->is_string()) return state_invalid(std::string(key) + " must be a decimal string");
    auto units = parse_non_negative_amount(found->get_ref<const std::string&>());
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
  auto anchor = value.find("budgetAnchor");
  if (anchor != value.end() && !anchor->is_null()) {
    auto ms = json_fields::safe_integer_value(*anchor, "budgetAnchor", 0);
    if (!ms.ok()) return state_invalid(ms.status().message());
    row.budget_anchor_ms = ms.value();
  }
  auto last_seq = value.find("lastSeq");
  if (last_seq != value.end() && !last_seq->is_null()) {
    auto seq = json_fields::safe_integer_value(*last_seq, "lastSeq", 0);
    if (!seq.ok()) return state_invalid(seq.status().message());
    row.last_seq = seq.value();
  }
  return row;
}

json credit_plan_to_json(const CreditPlan& plan) {
  json results = json::array();
  for (const CreditResult& result : plan.results) results.push_back(credit_result_to_json(result));
  json audit = json::array();
  for (const CreditAudit& record : plan.audit) audit.push_back(audit_to_json(record));
  json reviews = json::array();
  for (const ReviewItem& item : plan.reviews) {
    reviews.push_back({{"op_id", item.op_id},
                       {"seq", item.seq},
                       {"amount", format_amount(item.amount)},
                       {"reason", to_string(item.reason)},
                       {"context", item.context}});
  }
  json out = json::object();
  out["results"] = std::move(results);
  out["row"] = credit_row_to_json(plan.row);
  out["audit"] = std::move(audit);
  out["reviews"] = std::move(reviews);
  out["credited"] = format_amount(plan.credited);
  out["queuedForReview"] = format_amount(plan.queued_for_review);
  return out;
}

Result<std::string> plan_credit_json(const std::string& text) {
  auto input = parse_input(text);
  if (!input.ok()) return input.status();
  const json& in = input.value();
  auto config = config_from_json(in);
  if (!config.ok()) return config.status();
  auto now = server_now_from_json(in);
  if (!now.ok()) return now.status();
  auto row_json = in.find("row");
  if (row_json == in.end()) return state_invalid("row is missing");
  auto row = credit_row_from_json(*row_json);
  if (!row.ok()) return row.status();
  auto request = in.find("request");
  if (request == in.end()) return request_invalid("request is missing");
  auto ops = parse_sync_request(*request, config.value());
  if (!ops.ok()) return ops.status();
  auto plan = plan_credit(row.value(), ops.value(), now.value(), config.value());
  if (!plan.ok()) return plan.status();
  return dump(credit_plan_to_json(plan.value()));
}

Result<std::string> plan_review_decision_json(const std::string& text) {
  auto input = parse_input(text);
  if (!input.ok()) return input.status();
  const json& in = input.value();
  auto row_json = in.find("row");
  if (row_json == in.end()) return state_invalid("row is missing");
  auto row = credit_row_from_json(*row_json);
  if (!row.ok()) return row.status();
  auto item = in.find("item");
  if (item == in.end() || !item->is_object()) return request_invalid("item must be an object");
  auto amount = amount_member(*item, "amount", "item.amount");
  if (!amount.ok()) return amount.status();
  auto item_status = item->find("status");
  if (item_status == item->end() || !item_status->is_string()) {
    return request_invalid("item.status must be a string");
  }
  auto approve = in.find("approve");
  if (approve == in.end() || !approve->is_boolean()) return request_invalid("approve must be a boolean");
  auto decision = plan_review_decision(row.value(), amount.value(),
                                       item_status->get_ref<const std::string&>(), approve->get<bool>());
  if (!decision.ok()) return decision.status();
  CreditAudit audit = decision.value().audit;
  auto id = item->find("id");
  if (id != item->end() && (id->is_number_integer() || id->is_string())) audit.metadata["reviewId"] = *id;
  json out = json::object();
  out["row"] = credit_row_to_json(decision.value().row);
  out["status"] = decision.value().approved ? "approved" : "rejected";
  out["audit"] = json::array({audit_to_json(audit)});
  return dump(out);
}

}  // namespace earnings
