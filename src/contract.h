// The names every layer of the product shares, written once here (one fact, one place) and read by
// the client (js/core.js `core.contract`), the sync server (server/, through the same core) and
// apps: every error code anything in the product reports, every event type, and the client-id
// rule. JS keeps its public constants (error classes, ClientErrorCode, EVENT_TYPES) for apps that
// import them before the core is loaded; tests/js/core/contract.test.js checks that they, and
// every code the JS and the server emit, are in this table.
#pragma once

#include <string>

namespace earnings {

// A client id (the prefix of every op id, `clientId:seq`): 1 to 64 characters of [A-Za-z0-9_-]
// (is_valid_client_id, outbox.h). contract_json carries the same rule as a JavaScript RegExp
// source (kClientIdPattern; a test checks that the two agree) and this message.
constexpr const char* kClientIdPattern = "^[A-Za-z0-9_-]{1,64}$";
constexpr const char* kClientIdRule = "clientId must be 1 to 64 characters of [A-Za-z0-9_-]";

// {"errorCodes":{"core":[...ErrorCode names],"loader":[...],"client":[...],"server":[...],
//   "httpStatusPrefix":"HTTP_"},
//  "eventTypes":{"engine":[...],"client":[...]},
//  "clientId":{"pattern","maxLength","message"}}
// `httpStatusPrefix`: a client reports an answer outside the sync protocol as HTTP_<status>.
std::string contract_json();

}  // namespace earnings
