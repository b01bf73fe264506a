#include "outbox.h"

#include <algorithm>

#include "json_fields.h"
#include "state.h"

namespace earnings {

namespace {

constexpr ErrorCode kCorrupt = ErrorCode::kRecordCorrupt;
constexpr ErrorCode kInvalid = ErrorCode::kResponseInvalid;

Result<OpOutcome> parse_outcome(const std::string& text) {
  if (text == "applied") return OpOutcome::kApplied;
  if (text == "duplicate") return OpOutcome::kDuplicate;
  if (text == "review") return OpOutcome::kReview;
  if (text == "rejected") return OpOutcome::kRejected;
  if (text == "gap") return OpOutcome::kGap;
  return Status(kInvalid, "result status must be applied, duplicate, review, rejected or gap");
}

std::string optional_text(const Node& object, const char* key, std::size_t max_length) {
  return object.find(key).text().substr(0, max_length);
}

// The fields shared by open deltas and ops (read back by read_span).
Fields span_fields(OpType type, Units amount, std::int64_t from, std::int64_t to, Units rate,
                   std::int64_t accrued_ms) {
  Fields out;
  out.add("type", to_string(type))
      .amount("amount", amount)
      .add("from", from)
      .add("to", to)
      .amount("rate", rate)
      .add("accruedMs", accrued_ms);
  return out;
}

Bytes open_to_document(OpType type, const OpenDelta& open) {
  return span_fields(type, open.amount, open.from, open.to, open.rate, open.accrued_ms);
}

Bytes op_to_document(const OutboxOp& op) {
  return span_fields(op.type, op.amount, op.from, op.to, op.rate, op.accrued_ms)
      .add("seq", op.seq)
      .add("sent", op.sent);
}

// The fields shared by open deltas and ops.
Status read_span(const Node& value, OpType* type, Units* amount, std::int64_t* from, std::int64_t* to,
                 Units* rate, std::int64_t* accrued_ms) {
  if (!value.is_map()) return Status(kCorrupt, "outbox entry must be an object");
  std::string type_text;
  FieldReader read(value, kCorrupt);
  read.text("type", &type_text);
  read.amount("amount", 0, amount);
  read.integer("from", 0, from);
  read.integer("to", 0, to);
  read.amount("rate", 0, rate);
  read.integer("accruedMs", 0, accrued_ms);
  if (!read.ok()) return read.status();
  auto parsed_type = parse_op_type(type_text);
  if (!parsed_type.ok()) return Status(kCorrupt, parsed_type.status().message());
  if (*from > *to) return Status(kCorrupt, "outbox entry has from > to");
  *type = parsed_type.value();
  return Status::Ok();
}

Status read_op(const Node& value, OutboxOp* op) {
  Status span = read_span(value, &op->type, &op->amount, &op->from, &op->to, &op->rate, &op->accrued_ms);
  if (!span.ok()) return span;
  FieldReader read(value, kCorrupt);
  read.integer("seq", 1, &op->seq);
  read.boolean("sent", &op->sent);
  return read.status();
}

}  // namespace

const char* to_string(OpType type) {
  switch (type) {
    case OpType::kAccrual: return "accrual";
    case OpType::kEarningsUpdate: return "earnings_update";
    case OpType::kVerification: return "verification";
  }
  return "accrual";
}

Result<OpType> parse_op_type(const std::string& text) {
  if (text == "accrual") return OpType::kAccrual;
  if (text == "earnings_update") return OpType::kEarningsUpdate;
  if (text == "verification") return OpType::kVerification;
  return Status(ErrorCode::kRequestInvalid, "op type must be accrual, earnings_update or verification");
}

const char* to_string(OpOutcome outcome) {
  switch (outcome) {
    case OpOutcome::kApplied: return "applied";
    case OpOutcome::kDuplicate: return "duplicate";
    case OpOutcome::kRejected: return "rejected";
    case OpOutcome::kReview: return "review";
    case OpOutcome::kGap: return "gap";
  }
  return "applied";
}

bool is_valid_client_id(const std::string& client_id) {
  if (client_id.empty() || client_id.size() > 64) return false;
  for (char c : client_id) {
    const bool ok = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
                    c == '_' || c == '-';
    if (!ok) return false;
  }
  return true;
}

bool operator==(const OutboxOp& a, const OutboxOp& b) {
  return a.seq == b.seq && a.type == b.type && a.amount == b.amount && a.from == b.from &&
         a.to == b.to && a.rate == b.rate && a.accrued_ms == b.accrued_ms && a.sent == b.sent;
}

Result<OpResult> parse_op_result(const Node& value) {
  if (!value.is_map()) return Status(kInvalid, "each result must be an object");
  OpResult result;
  std::string status_text;
  FieldReader read(value, kInvalid);
  read.text("id", &result.id);
  read.integer("seq", 1, &result.seq);
  read.text("status", &status_text);
  for (auto optional : {std::make_pair("credited", &result.credited), std::make_pair("review", &result.review),
                        std::make_pair("refused", &result.refused)}) {
    if (value.find(optional.first).exists()) read.amount(optional.first, 0, optional.second);
  }
  if (!read.ok()) return read.status();
  auto status = parse_outcome(status_text);
  if (!status.ok()) return status.status();
  result.status = status.value();
  if (result.status == OpOutcome::kRejected || result.refused > 0) {
    result.code = optional_text(value, "code", 64);
    result.reason = optional_text(value, "reason", 512);
    if (result.code.empty()) result.code = to_string(ErrorCode::kRequestInvalid);
  }
  if (result.status == OpOutcome::kGap) {
    FieldReader gap(value, kInvalid);
    gap.integer("expectedSeq", 1, &result.expected_seq);
    if (!gap.ok()) return gap.status();
  }
  return result;
}

Outbox::Outbox(std::string client_id) : client_id_(std::move(client_id)) {}

Status Outbox::add(OpType type, Units amount, std::int64_t from, std::int64_t to, Units rate,
                   std::int64_t accrued_ms) {
  if (amount < 0 || rate < 0 || accrued_ms < 0 || from < 0 || to < from) {
    return Status(ErrorCode::kStateInvalid, "outbox: negative amount or time, or from > to");
  }
  OpenDelta& open = open_[static_cast<std::size_t>(type)];
  if (!open.empty() && open.rate != rate) {
    freeze(type);
  }
  auto sum = add_amounts(open.amount, amount);
  if (!sum.ok()) return sum.status();
  if (open.empty()) {
    open.from = from;
    open.rate = rate;
  }
  open.amount = sum.value();
  open.to = to > open.to ? to : open.to;
  open.accrued_ms = accrued_ms > kMaxSafeInteger - open.accrued_ms ? kMaxSafeInteger
                                                                   : open.accrued_ms + accrued_ms;
  return Status::Ok();
}

void Outbox::freeze(OpType type) {
  OpenDelta& open = open_[static_cast<std::size_t>(type)];
  if (open.amount == 0) return;
  OutboxOp op;
  op.seq = next_seq_++;
  op.type = type;
  op.amount = open.amount;
  op.from = open.from;
  op.to = open.to;
  op.rate = open.rate;
  op.accrued_ms = open.accrued_ms;
  ops_.push_back(op);
  open = OpenDelta();
}

std::int64_t Outbox::freeze_open() {
  std::int64_t released_ms = 0;
  for (std::size_t i = 0; i < kOpTypes; ++i) {
    if (open_[i].amount == 0) {
      released_ms += open_[i].accrued_ms;
      open_[i] = OpenDelta();
    } else {
      freeze(static_cast<OpType>(i));
    }
  }
  return released_ms;
}

std::vector<OutboxOp> Outbox::take_batch(std::size_t max_batch) {
  if (!has_outstanding()) freeze_open();
  std::vector<OutboxOp> batch;
  for (OutboxOp& op : ops_) {
    if (batch.size() >= max_batch) break;
    op.sent = true;
    batch.push_back(op);
  }
  return batch;
}

bool Outbox::has_unsent() const {
  for (const OutboxOp& op : ops_) {
    if (!op.sent) return true;
  }
  return false;
}

std::vector<OutboxOp> Outbox::reject_sent(const std::string& code, const std::string& reason,
                                          std::int64_t now) {
  std::vector<OutboxOp> removed = take_sent();
  for (const OutboxOp& op : removed) record_rejection(op, op.amount, code, reason, now);
  return removed;
}

void Outbox::record_rejection(const OutboxOp& op, Units amount, const std::string& code,
                              const std::string& reason, std::int64_t now) {
  rejected_.push_back(RejectedOp{op, code, reason, now});
  rejected_.back().op.amount = amount;
  if (rejected_.size() > kRejectedLogCapacity) rejected_.erase(rejected_.begin());
  auto total = add_amounts(rejected_total_, amount);
  rejected_total_ = total.ok() ? total.value() : kMaxUnits;
}

std::vector<OutboxOp> Outbox::take_sent() {
  std::vector<OutboxOp> removed;
  std::vector<OutboxOp> kept;
  for (const OutboxOp& op : ops_) {
    if (op.sent) removed.push_back(op); else kept.push_back(op);
  }
  ops_.swap(kept);
  return removed;
}

std::int64_t Outbox::accrued_ms() const {
  std::int64_t total = 0;
  auto add = [&total](std::int64_t ms) {
    total = ms > kMaxSafeInteger - total ? kMaxSafeInteger : total + ms;
  };
  for (const OpenDelta& open : open_) add(open.accrued_ms);
  for (const OutboxOp& op : ops_) add(op.accrued_ms);
  return total;
}

bool Outbox::has_outstanding() const {
  for (const OutboxOp& op : ops_) {
    if (op.sent) return true;
  }
  return false;
}

Result<std::vector<OpAnswer>> Outbox::apply_results(const std::vector<OpResult>& results,
                                                     std::int64_t now) {
  // Where each result's op sits in ops_. A scan per result: ops_ holds the few batches in
  // flight, and a hash table would cost the client module about 1 KB gzip of code.
  std::vector<std::string> owed;
  owed.reserve(ops_.size());
  for (const OutboxOp& op : ops_) owed.push_back(op_id(op));
  std::vector<std::size_t> positions;
  std::vector<char> answered(ops_.size(), 0);
  for (const OpResult& result : results) {
    const auto found = std::find(owed.begin(), owed.end(), result.id);
    if (found == owed.end()) {
      return Status(kInvalid, "result for op " + result.id.substr(0, 80) + " that is not owed");
    }
    const auto at = static_cast<std::size_t>(found - owed.begin());
    if (ops_[at].seq != result.seq) {
      return Status(kInvalid, "result for " + result.id + " carries seq " + std::to_string(result.seq));
    }
    if (answered[at] != 0) {
      return Status(kInvalid, "two results for op " + result.id);
    }
    answered[at] = 1;
    positions.push_back(at);
  }

  std::vector<OpAnswer> answers;
  std::vector<std::string> settled;
  for (std::size_t r = 0; r < results.size(); ++r) {
    const OpResult& result = results[r];
    const OutboxOp op = ops_[positions[r]];
    OpAnswer answer{op, result, false};
    if (result.status == OpOutcome::kGap) {
      answers.push_back(answer);
      break;
    }
    if (result.status == OpOutcome::kApplied) {
      // Time counted on another device (refused) is a rejection of that part of the op.
      answer.inconsistent = result.credited + result.review + result.refused != op.amount;
    } else if (result.status == OpOutcome::kReview) {
      answer.inconsistent = result.credited != 0 || (result.review != 0 && result.review != op.amount);
    } else if (result.status == OpOutcome::kDuplicate) {
      answer.inconsistent = result.credited + result.review > op.amount;
    }
    const Units rejected = result.status == OpOutcome::kRejected ? op.amount : answer.inconsistent ? 0 : result.refused;
    if (rejected > 0) record_rejection(op, rejected, result.code, result.reason, now);
    settled.push_back(result.id);
    answers.push_back(answer);
  }
  for (const std::string& id : settled) {
    for (auto it = ops_.begin(); it != ops_.end(); ++it) {
      if (op_id(*it) == id) {
        ops_.erase(it);
        break;
      }
    }
  }
  if (!answers.empty() && answers.back().result.status == OpOutcome::kGap) {
    // Everything still owed follows the server's last applied seq, in the same order.
    std::int64_t seq = answers.back().result.expected_seq;
    for (OutboxOp& op : ops_) {
      op.seq = seq++;
      op.sent = false;
    }
    next_seq_ = seq;
  }
  return answers;
}

void Outbox::observe_server_last_seq(std::int64_t last_seq) {
  if (last_seq >= next_seq_ && last_seq < kMaxSafeInteger) next_seq_ = last_seq + 1;
}

void Outbox::rebind(const std::string& client_id, std::int64_t first_seq) {
  client_id_ = client_id;
  next_seq_ = first_seq;
  for (OutboxOp& op : ops_) {
    op.seq = next_seq_++;
    op.sent = false;
  }
}

namespace {

// Saturating: a record can hold many ops near the largest amount; the caller's invariant check
// then fails instead of the sum overflowing.
Units saturating_add(Units total, Units amount) {
  return amount > kMaxUnits - total ? kMaxUnits + 1 : total + amount;
}

}  // namespace

Units Outbox::pending_units() const {
  Units total = saturating_add(open(OpType::kAccrual).amount, open(OpType::kEarningsUpdate).amount);
  for (const OutboxOp& op : ops_) {
    if (op.type != OpType::kVerification) total = saturating_add(total, op.amount);
  }
  return total;
}

Units Outbox::held_units() const {
  Units total = open(OpType::kVerification).amount;
  for (const OutboxOp& op : ops_) {
    if (op.type == OpType::kVerification) total = saturating_add(total, op.amount);
  }
  return total;
}

std::size_t Outbox::depth() const {
  std::size_t depth = ops_.size();
  for (const OpenDelta& open : open_) {
    if (!open.empty()) ++depth;
  }
  return depth;
}

Bytes Outbox::op_to_wire(const OutboxOp& op) const {
  return Fields()
      .add("id", op_id(op))
      .add("seq", op.seq)
      .add("type", to_string(op.type))
      .amount("amount", op.amount)
      .add("from", op.from)
      .add("to", op.to)
      .amount("rate", op.rate)
      .bytes();
}

Bytes Outbox::to_document() const {
  DocumentWriter open;
  open.begin_array();
  for (std::size_t i = 0; i < kOpTypes; ++i) {
    if (!open_[i].empty()) open.value(open_to_document(static_cast<OpType>(i), open_[i]));
  }
  open.end();
  DocumentWriter ops;
  ops.begin_array();
  for (const OutboxOp& op : ops_) ops.value(op_to_document(op));
  ops.end();
  DocumentWriter rejected;
  rejected.begin_array();
  for (const RejectedOp& entry : rejected_) {
    rejected.value(Fields()
                       .add("op", op_to_document(entry.op))
                       .add("code", entry.code)
                       .add("reason", entry.reason)
                       .add("at", entry.at));
  }
  rejected.end();
  return Fields()
      .add("clientId", client_id_)
      .add("nextSeq", next_seq_)
      .add("open", open.take())
      .add("ops", ops.take())
      .add("rejected", rejected.take())
      .amount("rejectedTotal", rejected_total_)
      .bytes();
}

Result<Outbox> Outbox::from_document(const Node& value) {
  if (!value.is_map()) return Status(kCorrupt, "outbox must be an object");
  std::string client_id;
  std::int64_t next_seq = 0;
  FieldReader read(value, kCorrupt);
  read.text("clientId", &client_id);
  read.integer("nextSeq", 1, &next_seq);
  if (!read.ok()) return read.status();
  if (!is_valid_client_id(client_id)) return Status(kCorrupt, "outbox clientId is invalid");
  Outbox outbox(client_id);
  outbox.next_seq_ = next_seq;

  const Node open = value.find("open");
  if (!open.is_array() || open.size() > kOpTypes) {
    return Status(kCorrupt, "outbox open must be an array of at most 3 deltas");
  }
  std::array<bool, kOpTypes> seen{};
  for (Node entry : open.elements()) {
    OpType type;
    OpenDelta delta;
    Status read_one = read_span(entry, &type, &delta.amount, &delta.from, &delta.to, &delta.rate,
                                &delta.accrued_ms);
    if (!read_one.ok()) return Status(kCorrupt, "outbox open: " + read_one.message());
    const std::size_t slot = static_cast<std::size_t>(type);
    if (seen[slot]) return Status(kCorrupt, "outbox open holds two deltas of one type");
    seen[slot] = true;
    outbox.open_[slot] = delta;
  }

  const Node ops = value.find("ops");
  if (!ops.is_array()) return Status(kCorrupt, "outbox ops must be an array");
  std::int64_t previous_seq = 0;
  for (Node entry : ops.elements()) {
    OutboxOp op;
    Status read_one = read_op(entry, &op);
    if (!read_one.ok()) return Status(kCorrupt, "outbox op: " + read_one.message());
    if (op.seq <= previous_seq) return Status(kCorrupt, "outbox ops are not in increasing seq order");
    if (op.amount == 0) return Status(kCorrupt, "outbox op with a zero amount");
    previous_seq = op.seq;
    outbox.ops_.push_back(op);
  }
  if (previous_seq >= outbox.next_seq_) return Status(kCorrupt, "outbox nextSeq is not above every op");

  const Node rejected = value.find("rejected");
  if (!rejected.is_array() || rejected.size() > kRejectedLogCapacity) {
    return Status(kCorrupt, "outbox rejected must be an array of at most 50 entries");
  }
  for (Node entry : rejected.elements()) {
    if (!entry.is_map()) return Status(kCorrupt, "outbox rejected entry must be an object");
    RejectedOp record;
    const Node op = entry.find("op");
    if (!op.exists()) return Status(kCorrupt, "outbox rejected entry lacks op");
    Status read_one = read_op(op, &record.op);
    if (!read_one.ok()) return Status(kCorrupt, "outbox rejected op: " + read_one.message());
    FieldReader fields(entry, kCorrupt);
    fields.text("code", &record.code);
    fields.text("reason", &record.reason);
    fields.integer("at", 0, &record.at);
    if (!fields.ok()) return Status(kCorrupt, "outbox rejected entry has a missing or mistyped field");
    outbox.rejected_.push_back(record);
    if (!add_amounts(outbox.rejected_total_, record.op.amount).ok()) {
      return Status(kCorrupt, "outbox rejected amounts overflow");
    }
    outbox.rejected_total_ += record.op.amount;
  }
  // Records written before the total was kept carry only their log: its sum is what they refused.
  if (value.find("rejectedTotal").exists()) {
    FieldReader total(value, kCorrupt);
    total.amount("rejectedTotal", outbox.rejected_total_, &outbox.rejected_total_);
    if (!total.ok()) return Status(kCorrupt, "outbox rejectedTotal is mistyped or below its log");
  }
  return outbox;
}

}  // namespace earnings
