// One user's earnings as the client holds them: the seed's `EarningsState` fields plus what
// integrity needs (server-confirmed baseline, server clock offset, last clock observation,
// accrual remainder, held and under-review amounts, offline-cap bookkeeping).
//
// Money is Units (10^-8 TON), never floating point; times are int64 ms. The invariant the rest of
// the core leans on is `current_earnings == synced_total + pending`: what the server confirmed
// plus what is accepted locally and not yet acknowledged. Held-for-verification, under-review,
// rejected and unconfirmed amounts are shown beside it, never inside it.
//
// Document form (stored, and exported as JSON): camelCase keys, money as decimal strings with 8
// decimals, times as integers. state_from_document trusts nothing: a wrong type or out-of-range value is
// kRecordCorrupt, a broken invariant kStateInvalid; it never returns a half-read state.
#pragma once

#include <cstdint>
#include <string>

#include "amount.h"
#include "document.h"
#include "status.h"

namespace earnings {

constexpr std::int64_t kMaxSafeInteger = 9007199254740991;  // 2^53 - 1: exact in a JS number

enum class SyncStatus { kSynced, kPending, kFailed };

// "synced" | "pending" | "failed" (seed names).
const char* to_string(SyncStatus status);
Result<SyncStatus> parse_sync_status(const std::string& text);

struct EarningsState {
  // Seed fields.
  std::int64_t user_id = 0;
  Units current_earnings = 0;
  Units base_earning_rate = 0;  // per hour
  std::int64_t last_update = 0;  // engine time (see clock_guard.h) of the last observation
  std::int64_t start_date = 0;
  bool is_active = false;
  SyncStatus sync_status = SyncStatus::kSynced;

  // Integrity fields.
  Units synced_total = 0;           // the server's totalEarned as last seen
  Units pending = 0;                // outbox: open deltas + frozen ops, except verification
  Units held_for_verification = 0;  // beyond the offline cap, sent whole for manual review
  Units under_review = 0;           // the server's pendingReview
  Units rejected_total = 0;         // refused for good: the outbox's total, written, never read
  bool review_flag = false;         // a discrepancy awaits a human
  std::int64_t server_offset_ms = 0;  // serverTime - device wall at the last response
  bool has_server_time = false;
  bool has_clock = false;           // false until the first (wall, mono) observation
  std::int64_t last_wall = 0;       // corrected wall of the last observation
  std::int64_t last_mono = 0;
  std::int64_t accrual_remainder = 0;  // in [0, kMsPerHour), see amount.h accrue()
  std::int64_t unsynced_ms = 0;        // accrued time not yet acknowledged (offline cap)
  std::int64_t budget_ms = 0;          // earning time available to add_earnings claims

  // A reload's catch-up (the time the app was closed) that no server time has judged yet: the
  // device's claim, never inside current_earnings (DESIGN.md "Time and accrual rules").
  std::int64_t unconfirmed_since = -1;  // server time of the last judged observation; -1: none
  std::int64_t unconfirmed_at = 0;      // last_update at that observation
  std::int64_t unconfirmed_ms = 0;      // closed time the device's clock claims
  Units unconfirmed_rate = 0;           // the rate it was mining at; 0: not mining
};

// What the claimed closed time would earn at its rate: shown as `unconfirmed`, beside the balance.
Units unconfirmed_units(const EarningsState& state);

bool operator==(const EarningsState& a, const EarningsState& b);
inline bool operator!=(const EarningsState& a, const EarningsState& b) { return !(a == b); }

Bytes state_to_document(const EarningsState& state);
Result<EarningsState> state_from_document(const Node& value);

}  // namespace earnings
