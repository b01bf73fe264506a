// What the client owes the server (Properties 2, 3, 4, 6, 12, 21).
//
// Earnings accepted locally first merge into one OPEN delta per op type, so a day offline is
// one op, not 86,400, and storage stays O(1) in the time spent offline. When a request is built
// the open deltas are FROZEN into ops with ids "clientId:seq" (seq strictly increasing per
// client) and from then on are immutable: every retry sends exactly those ids, which is what
// lets the server credit each at most once. New earnings keep merging into a fresh open delta
// while frozen ops wait for an answer; they are frozen only once the outstanding ops are
// answered, so retries never multiply ops.
//
// Per-op answers (DESIGN.md sync protocol): applied / duplicate / review remove the op (it is
// the server's now); rejected removes it and records it with its reason in a bounded log that
// the user sees (never retried, never silently dropped: every refused amount also adds to
// rejected_total(), which the log's cap never shrinks, so total - sum(log) is exactly what fell
// off the log); gap keeps the op and renumbers it and every later op from the server's
// expectedSeq, so the client resends in order.
#pragma once

#include <array>
#include <cstddef>
#include <cstdint>
#include <string>
#include <vector>

#include "amount.h"
#include "document.h"
#include "metrics.h"
#include "status.h"

namespace earnings {

enum class OpType { kAccrual, kEarningsUpdate, kVerification };
constexpr std::size_t kOpTypes = 3;

// "accrual" | "earnings_update" | "verification" (wire names).
const char* to_string(OpType type);
Result<OpType> parse_op_type(const std::string& text);
const char* to_string(OpOutcome outcome);

// 1..64 chars of [A-Za-z0-9_-].
bool is_valid_client_id(const std::string& client_id);

struct OpenDelta {
  Units amount = 0;
  std::int64_t from = 0;
  std::int64_t to = 0;
  Units rate = 0;
  std::int64_t accrued_ms = 0;  // earning time behind `amount`, for the offline cap
  bool empty() const { return amount == 0 && accrued_ms == 0; }
};

struct OutboxOp {
  std::int64_t seq = 0;
  OpType type = OpType::kAccrual;
  Units amount = 0;
  std::int64_t from = 0;
  std::int64_t to = 0;
  Units rate = 0;
  std::int64_t accrued_ms = 0;
  bool sent = false;
};

bool operator==(const OutboxOp& a, const OutboxOp& b);

struct RejectedOp {
  OutboxOp op;
  std::string code;
  std::string reason;
  std::int64_t at = 0;
};

// One entry of a sync response's `results`, checked for shape (kResponseInvalid otherwise).
struct OpResult {
  std::string id;
  std::int64_t seq = 0;
  OpOutcome status = OpOutcome::kApplied;
  Units credited = 0;
  Units review = 0;
  Units refused = 0;   // applied or duplicate: the part counted on another device
  std::string code;    // rejected, or refused > 0
  std::string reason;  // rejected, or refused > 0
  std::int64_t expected_seq = 0;  // gap only
};
Result<OpResult> parse_op_result(const Node& value);

// What applying one result did to the op it answered.
struct OpAnswer {
  OutboxOp op;
  OpResult result;
  // The answer does not add up (credited + review differs from the amount sent); the server
  // still wins, but the difference goes to the conflict log.
  bool inconsistent = false;
};

constexpr std::size_t kRejectedLogCapacity = 50;

class Outbox {
 public:
  // REQUIRES: is_valid_client_id(client_id).
  explicit Outbox(std::string client_id = "client");

  // Merges earnings for [from, to] into the open delta of `type`. A rate change freezes the
  // delta accrued at the old rate first, so every op has one rate. Fails (changing nothing) on
  // negative input, from > to or overflow.
  Status add(OpType type, Units amount, std::int64_t from, std::int64_t to, Units rate,
             std::int64_t accrued_ms);

  // Freezes every non-empty open delta into ops (accrual, earnings_update, verification order).
  // Open deltas whose amount is zero are discarded; returns their accrued_ms so the caller can
  // release that time from its offline-cap count.
  std::int64_t freeze_open();

  // The next request's ops: when no op is outstanding the open deltas are frozen first; then up
  // to `max_batch` ops in seq order, marked sent.
  std::vector<OutboxOp> take_batch(std::size_t max_batch);

  // Checks every result against the frozen ops (id known, seq matches) before changing
  // anything: one bad result rejects the whole answer with kResponseInvalid. Results are then
  // applied in order; processing stops at the first gap (nothing after it was applied).
  Result<std::vector<OpAnswer>> apply_results(const std::vector<OpResult>& results,
                                              std::int64_t now);

  // The server's lastSeq for this client: new seqs must be above it, or new ops would be
  // taken for duplicates and lost. Frozen ops at or below it keep their ids (they are the
  // retries the server already has).
  void observe_server_last_seq(std::int64_t last_seq);

  // A permanent refusal of a whole request (HTTP 4xx): every sent op is removed and recorded
  // as rejected with `code` and `reason`; returns them.
  std::vector<OutboxOp> reject_sent(const std::string& code, const std::string& reason,
                                    std::int64_t now);

  // Removes and returns the sent, unanswered ops (before a switch to a new client id, under
  // which resending them could credit them twice).
  std::vector<OutboxOp> take_sent();

  // A fresh client id after recovery: every op still owed is renumbered from `first_seq`.
  // REQUIRES: is_valid_client_id(client_id), first_seq >= 1.
  void rebind(const std::string& client_id, std::int64_t first_seq);

  Units pending_units() const;  // accrual + earnings_update, open and frozen
  Units held_units() const;     // verification, open and frozen
  std::int64_t accrued_ms() const;  // earning time behind everything owed
  std::size_t depth() const;    // frozen ops plus non-empty open deltas
  bool has_unsent() const;      // a frozen op waits to be sent
  bool empty() const { return depth() == 0; }
  bool has_outstanding() const;  // a frozen op was sent and not answered

  const std::string& client_id() const { return client_id_; }
  std::string op_id(const OutboxOp& op) const { return client_id_ + ":" + std::to_string(op.seq); }
  std::int64_t next_seq() const { return next_seq_; }
  const OpenDelta& open(OpType type) const { return open_[static_cast<std::size_t>(type)]; }
  const std::vector<OutboxOp>& ops() const { return ops_; }
  const std::vector<RejectedOp>& rejected() const { return rejected_; }
  // Every amount ever refused for good under this outbox (the log keeps only the newest 50).
  Units rejected_total() const { return rejected_total_; }

  // The wire form of an op (DESIGN.md): {"id","seq","type","amount","from","to","rate"}.
  Bytes op_to_wire(const OutboxOp& op) const;

  Bytes to_document() const;
  // Validates every field, seq order and uniqueness, nextSeq above every seq; kRecordCorrupt.
  static Result<Outbox> from_document(const Node& value);

 private:
  void freeze(OpType type);
  // `amount`: all of the op, or the part of it the server refused.
  void record_rejection(const OutboxOp& op, Units amount, const std::string& code,
                        const std::string& reason, std::int64_t now);

  std::string client_id_;
  std::int64_t next_seq_ = 1;
  std::array<OpenDelta, kOpTypes> open_{};
  std::vector<OutboxOp> ops_;         // in seq order
  std::vector<RejectedOp> rejected_;  // oldest first
  Units rejected_total_ = 0;          // saturates at kMaxUnits
};

}  // namespace earnings
