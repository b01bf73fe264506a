// A deterministic world for the engine's property tests: injected clocks (true time, a wall
// clock the user can move, a mono clock that restarts with every page load), a tiny server that
// keeps lastSeq per client and credits each op id at most once, and a network that can drop a
// request, drop the answer after the server committed, fail with an HTTP status, answer from
// something that is not the sync server (a proxy's 404 page), or refuse the request for good in
// the protocol's own words.
#pragma once

#include <cstdint>
#include <map>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "amount.h"
#include "engine.h"

namespace earnings_test {

using earnings::Units;
using nlohmann::json;

// The acceptance floor of generated cases per property: every engine case runs a whole
// simulated session under the sanitizers, so more cases cost minutes, not confidence.
constexpr int kCases = 100;

constexpr std::int64_t kSimUser = 4242;
constexpr std::int64_t kSimStart = 1700000000000;

struct ServerModel {
  std::map<std::string, std::int64_t> last_seq;
  std::map<std::string, Units> credited_by_id;
  std::map<std::string, int> credit_count;
  Units total = 0;
  Units review = 0;

  json row(const std::string& client_id, std::int64_t now) const {
    auto found = last_seq.find(client_id);
    return json{{"userId", kSimUser},
                {"totalEarned", earnings::format_amount(total)},
                {"currentEarnings", earnings::format_amount(total)},
                {"baseEarningRate", "0.00000000"},
                {"pendingReview", earnings::format_amount(review)},
                {"lastSeq", found == last_seq.end() ? 0 : found->second},
                {"lastUpdate", now},
                {"startDate", kSimStart},
                {"isActive", true},
                {"syncStatus", "synced"}};
  }

  // Applies a request the way DESIGN.md's protocol says: in seq order, duplicates change
  // nothing, a gap stops the batch, verification ops go to review whole.
  json handle(const std::string& request_text, std::int64_t now) {
    const json request = json::parse(request_text);
    const std::string client = request["clientId"];
    std::int64_t& last = last_seq[client];
    json results = json::array();
    bool gap = false;
    for (const json& op : request["ops"]) {
      const std::string id = op["id"];
      const std::int64_t seq = op["seq"];
      const Units amount = earnings::parse_amount(op["amount"].get<std::string>()).value();
      json result{{"id", id}, {"seq", seq}};
      if (gap || seq > last + 1) {
        gap = true;
        result["status"] = "gap";
        result["expectedSeq"] = last + 1;
      } else if (seq <= last) {
        result["status"] = "duplicate";
      } else {
        last = seq;
        ++credit_count[id];
        if (op["type"] == "verification") {
          review += amount;
          result["status"] = "review";
          result["review"] = earnings::format_amount(amount);
        } else {
          total += amount;
          credited_by_id[id] = amount;
          result["status"] = "applied";
          result["credited"] = earnings::format_amount(amount);
          result["review"] = "0.00000000";
        }
      }
      results.push_back(result);
    }
    return json{{"results", results}, {"state", row(client, now)}, {"serverTime", now}};
  }
};

enum class NetworkOutcome {
  kDelivered, kRequestLost, kAnswerLost, kServerError, kTooMany,
  kMisrouted,  // a proxy or static host answers 404 with its own page: not the protocol
  kRefused,    // the server refuses the request for good: 400 REQUEST_INVALID in its error shape
};

struct Sim {
  earnings::Engine engine;
  ServerModel server;
  std::int64_t true_time = kSimStart;
  std::int64_t wall = kSimStart;
  std::int64_t mono = 0;
  // Every op the server refused for good, oldest first, as the engine's events reported them.
  std::vector<Units> refused;

  explicit Sim(earnings::Engine e) : engine(std::move(e)) {}

  void advance(std::int64_t ms) {
    true_time += ms;
    wall += ms;
    mono += ms;
  }

  bool tick() { return engine.tick(wall, mono).value(); }

  // One sync attempt through the network; returns whether a request was built.
  bool sync(NetworkOutcome outcome, bool force = true) {
    auto request = engine.next_sync_request(wall, mono, force);
    if (!request.ok() || request.value().empty()) return false;
    switch (outcome) {
      case NetworkOutcome::kDelivered: {
        const json answer = server.handle(request.value(), true_time);
        auto applied = engine.apply_sync_response(answer.dump(), wall, mono);
        if (!applied.ok()) throw std::runtime_error(applied.status().message());
        break;
      }
      case NetworkOutcome::kRequestLost:
        engine.apply_sync_failure(0, wall, mono);
        break;
      case NetworkOutcome::kAnswerLost:
        server.handle(request.value(), true_time);
        engine.apply_sync_failure(0, wall, mono);
        break;
      case NetworkOutcome::kServerError:
        engine.apply_sync_failure(503, wall, mono);
        break;
      case NetworkOutcome::kTooMany:
        engine.apply_sync_failure(429, wall, mono);
        break;
      case NetworkOutcome::kMisrouted:
        engine.apply_sync_failure(404, wall, mono, "<html><body>404 Not Found</body></html>");
        break;
      case NetworkOutcome::kRefused: {
        const json failure = json::parse(engine.apply_sync_failure(
            400, wall, mono, R"({"error":{"code":"REQUEST_INVALID","message":"refused"}})").value());
        for (const json& event : failure["events"]) {
          if (event["type"] == "rejected") {
            refused.push_back(earnings::parse_amount(event["amount"].get<std::string>()).value());
          }
        }
        break;
      }
    }
    return true;
  }

  // Page reload: the record goes through storage, mono restarts, the app was closed `gap` ms.
  void reload(std::int64_t gap) {
    const earnings::Bytes bytes = engine.serialize().value();
    auto restored = earnings::Engine::restore(bytes, kSimUser, engine.config());
    if (!restored.ok()) throw std::runtime_error(restored.status().message());
    engine = std::move(restored.value());
    true_time += gap;
    wall += gap;
    mono = 0;
  }

  // Syncs over a reliable network until nothing is owed (bounded, so a bug cannot hang). A
  // reload's catch-up still unconfirmed with nothing to send is judged by the server's row, which
  // the client asks for (GET /v1/state) while it holds one.
  void drain() {
    for (int i = 0; i < 50; ++i) {
      if (!engine.outbox().empty()) {
        sync(NetworkOutcome::kDelivered);
      } else if (engine.state().unconfirmed_since >= 0) {
        const json answer{{"state", server.row(engine.outbox().client_id(), true_time)}, {"serverTime", true_time}};
        auto recovered = engine.recover_from_server(answer.dump(), "", wall, mono);
        if (!recovered.ok()) throw std::runtime_error(recovered.status().message());
      } else {
        break;
      }
    }
  }
};

inline earnings::Engine sim_engine(earnings::EngineConfig config = earnings::EngineConfig(),
                                   const char* rate = "36.00000000", std::uint64_t seed = 7) {
  auto created = earnings::Engine::create(kSimUser, "sim", seed, config);
  earnings::Engine engine = std::move(created.value());
  engine.set_rate(rate);
  engine.set_active(true, kSimStart, 0);
  return engine;
}

// Exact accrual for `ms` of mining at `rate_units` per hour from a zero remainder.
inline Units exact_accrual(Units rate_units, std::int64_t ms) {
  return static_cast<Units>(static_cast<__int128>(rate_units) * ms / earnings::kMsPerHour);
}

}  // namespace earnings_test
