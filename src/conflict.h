// Reconciling with the server (Properties 5, 8, 15, 18, 31) and the seed's RecoveryManager.
//
// The server's row is the truth: on every server state (a sync response or GET /v1/state) the
// synced baseline becomes the server's totalEarned and whatever the client still owes is rebased
// on top (currentEarnings = server total + pending, Replicache style). When the two disagree
// beyond tolerance in a way only lost data or a bug explains (the server holds less than what it
// already confirmed to this client; an answer that does not add up), the local values are kept
// in a bounded conflict log with context, the state is flagged for review, and a discrepancy
// report says what was expected and what came back.
//
// detect_corruption(bytes) is Engine::detect_corruption (it needs the whole record's checks).
#pragma once

#include <cstddef>
#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "amount.h"
#include "document.h"
#include "state.h"
#include "status.h"
#include "validation.h"

namespace earnings {

// The authoritative `user_earnings` row as the sync protocol carries it (DESIGN.md).
struct ServerState {
  std::int64_t user_id = 0;
  Units total_earned = 0;
  Units current_earnings = 0;
  Units base_earning_rate = 0;
  Units pending_review = 0;
  std::int64_t last_seq = 0;
  std::int64_t last_update = 0;
  std::int64_t start_date = 0;
  bool is_active = false;
  SyncStatus sync_status = SyncStatus::kSynced;
};

// Shape and range checks; kResponseInvalid naming the field.
Result<ServerState> parse_server_state(const Node& value);

struct ConflictRecord {
  std::int64_t at = 0;  // engine time
  std::string kind;     // "lost_credits" | "inconsistent_answer" | "orphaned_ops"
  Units local_synced = 0;
  Units local_current = 0;
  Units server_total = 0;
  Units expected_total = 0;  // what the client knows was credited
  Units difference = 0;      // expected - server (or the amount in question)
  Bytes context = Fields().bytes();  // the discrepancy report's details, a map
};

// What every kind of conflict records alike: when, the totals the client held (`local`'s synced
// and current earnings), the server's total and what the client expected it to hold. The caller
// adds what is its kind's own: the difference and the context.
ConflictRecord new_conflict(std::int64_t at, const char* kind, const EarningsState& local,
                            const ServerState& server, Units expected_total);

Bytes conflict_to_document(const ConflictRecord& record);

constexpr std::size_t kConflictLogCapacity = 50;

// Bounded: the oldest record goes first, counted in dropped(), so a device that keeps
// disagreeing cannot fill its storage.
class ConflictLog {
 public:
  void add(ConflictRecord record);
  const std::vector<ConflictRecord>& records() const { return records_; }
  std::uint64_t dropped() const { return dropped_; }

  // {"dropped":n,"records":[...]}; from_document validates (kRecordCorrupt).
  Bytes to_document() const;
  static Result<ConflictLog> from_document(const Node& value);

 private:
  std::vector<ConflictRecord> records_;  // oldest first
  std::uint64_t dropped_ = 0;
};

struct Resolution {
  EarningsState state;
  std::optional<ConflictRecord> conflict;
};

// Server wins, local pending rebased on top. `expected_total` is the least the server must hold
// (the last confirmed total plus what this answer says it credited); holding less by more than
// `tolerance` is a conflict. The rate follows the server when the server has one. REQUIRES:
// `local` valid (validate_state). Fails only on overflow (kAmountOverflow), changing nothing.
Result<Resolution> resolve_conflicts(const EarningsState& local, const ServerState& server,
                                     Units expected_total, Units tolerance, std::int64_t now);

// A fresh state from the server's row after local data was lost or corrupt (Property 8): the
// server's totals, rate, start date and mining flag; nothing owed locally; clock anchor unset so
// the next observation starts a new session. kRecordUserMismatch when the row is another
// user's.
Result<EarningsState> recover_state_from_server(const ServerState& server, std::int64_t user_id,
                                                std::int64_t now);

// validate_state plus what a freshly recovered state must satisfy: nothing pending, nothing
// held, synced status.
ValidationResult validate_recovered_data(const EarningsState& state);

}  // namespace earnings
