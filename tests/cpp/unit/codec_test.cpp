#include <catch2/catch.hpp>

#include "codec.h"
#include "documents.h"

using namespace earnings;
using nlohmann::json;
using test_documents::bytes;

namespace {

json as_json(const Result<Document>& decoded) {
  REQUIRE(decoded.ok());
  return test_documents::to_json(decoded.value().root());
}

// An envelope around arbitrary payload bytes with a correct checksum, to reach the payload
// checks behind the CRC.
Bytes envelope(std::uint8_t version, const Bytes& payload) {
  Bytes out = {'T', 'E', 'G', version, 0, 0, 0, 0, 0, 0, 0, 0};
  const auto size = static_cast<std::uint32_t>(payload.size());
  for (int k = 0; k < 4; ++k) out[4 + k] = static_cast<std::uint8_t>(size >> (8 * k));
  std::uint32_t crc = crc32(&out[3], 5);
  crc = crc32(payload.data(), payload.size(), crc);
  for (int k = 0; k < 4; ++k) out[8 + k] = static_cast<std::uint8_t>(crc >> (8 * k));
  out.insert(out.end(), payload.begin(), payload.end());
  return out;
}

ErrorCode decode_code(const Bytes& bytes) { return decode_record(bytes).status().code(); }

}  // namespace

TEST_CASE("crc32 is CRC-32/IEEE", "[codec]") {
  SECTION("check value") {
    const std::string check = "123456789";
    CHECK(crc32(reinterpret_cast<const std::uint8_t*>(check.data()), check.size()) == 0xCBF43926u);
  }
  SECTION("empty input") { CHECK(crc32(nullptr, 0) == 0u); }
  SECTION("chained over pieces equals one pass") {
    const std::string text = "earnings outbox";
    const auto* p = reinterpret_cast<const std::uint8_t*>(text.data());
    CHECK(crc32(p + 5, text.size() - 5, crc32(p, 5)) == crc32(p, text.size()));
  }
}

TEST_CASE("record envelope bytes", "[codec]") {
  SECTION("a one-member document, byte for byte") {
    const Bytes expected = {'T', 'E', 'G', 0x02, 0x04, 0x00, 0x00, 0x00,
                            0xAB, 0xBE, 0x0B, 0xCA, 0x81, 0xA1, 'a', 0x01};
    CHECK(encode_record(bytes(json{{"a", 1}})).value() == expected);
  }
  SECTION("keys in the dictionary take one byte") {
    const Bytes record = encode_record(bytes(json{{"amount", "0.5"}, {"seq", 7}})).value();
    const Bytes payload(record.begin() + 12, record.end());
    // {"amount": "0.5", "seq": 7}: fixmap(2), key #3, fixstr(3) "0.5", key #1, 7
    CHECK(payload == Bytes{0x82, 0x03, 0xA3, '0', '.', '5', 0x01, 0x07});
    CHECK(as_json(decode_record(record)) == json{{"seq", 7}, {"amount", "0.5"}});
  }
  SECTION("the checksum covers version and length") {
    Bytes record = encode_record(bytes(json{{"a", 1}})).value();
    const std::uint32_t stored = static_cast<std::uint32_t>(record[8]) | record[9] << 8 |
                                 record[10] << 16 | static_cast<std::uint32_t>(record[11]) << 24;
    std::uint32_t crc = crc32(&record[3], 5);
    crc = crc32(&record[12], record.size() - 12, crc);
    CHECK(stored == crc);
  }
  SECTION("documents too deep to read back are refused at encoding") {
    Bytes deep(kMaxDocumentDepth + 1, 0x91);
    deep.push_back(0x90);
    CHECK(encode_record(deep).status().code() == ErrorCode::kRecordCorrupt);
  }
  SECTION("bytes that are not one document are refused at encoding") {
    const Bytes not_documents[] = {
        {0x81, 0xA1, 'n', 0xA2, 0xC3, 0x28},  // a string that is not UTF-8
        {0xC4, 0x02, 0x01, 0x02},             // binary that is not a number's text
        {0x82, 0x01, 0x01, 0x01, 0x02},       // "seq" twice
        {0x01, 0x02},                         // two values
        {},                                   // none
    };
    for (const Bytes& document : not_documents) {
      CHECK(encode_record(document).status().code() == ErrorCode::kRecordCorrupt);
    }
  }
}

TEST_CASE("decoding refuses damaged records", "[codec]") {
  const Bytes good = encode_record(bytes(json{{"u", 42}, {"e", 150000000}})).value();

  SECTION("too short for a header") {
    CHECK(decode_code(Bytes{}) == ErrorCode::kRecordCorrupt);
    CHECK(decode_code(Bytes(good.begin(), good.begin() + 11)) == ErrorCode::kRecordCorrupt);
    CHECK(decode_record(nullptr, 0).status().code() == ErrorCode::kRecordCorrupt);
  }
  SECTION("wrong magic, with a message saying so") {
    Bytes bad = good;
    bad[0] = 'X';
    auto decoded = decode_record(bad);
    CHECK(decoded.status().code() == ErrorCode::kRecordCorrupt);
    CHECK(decoded.status().message().find("magic") != std::string::npos);
  }
  SECTION("truncated payload") {
    auto decoded = decode_record(Bytes(good.begin(), good.end() - 1));
    CHECK(decoded.status().code() == ErrorCode::kRecordCorrupt);
    CHECK(decoded.status().message().find("truncated") != std::string::npos);
  }
  SECTION("trailing bytes") {
    Bytes bad = good;
    bad.push_back(0);
    auto decoded = decode_record(bad);
    CHECK(decoded.status().code() == ErrorCode::kRecordCorrupt);
    CHECK(decoded.status().message().find("trailing") != std::string::npos);
  }
  SECTION("checksum mismatch") {
    Bytes bad = good;
    bad.back() ^= 0x01;
    auto decoded = decode_record(bad);
    CHECK(decoded.status().code() == ErrorCode::kRecordCorrupt);
    CHECK(decoded.status().message().find("checksum") != std::string::npos);
  }
  SECTION("a flipped version bit is corruption, not a newer version") {
    Bytes bad = good;
    bad[3] ^= 0x04;
    CHECK(decode_code(bad) == ErrorCode::kRecordCorrupt);
  }
  SECTION("an intact record of a newer version") {
    auto decoded = decode_record(envelope(3, Bytes{0xC0}));
    CHECK(decoded.status().code() == ErrorCode::kRecordVersion);
    CHECK(decoded.status().message().find("version 3") != std::string::npos);
  }
  SECTION("envelope versions that were never written") {
    CHECK(decode_code(envelope(1, Bytes{0xC0})) == ErrorCode::kRecordCorrupt);
    CHECK(decode_code(envelope(0, Bytes{0xC0})) == ErrorCode::kRecordCorrupt);
  }
  SECTION("payloads that are not a JSON document in MessagePack") {
    const Bytes bad_payloads[] = {
        {},                          // nothing
        {0xC1},                      // never-used tag
        {0x92, 0x01},                // array short of an element
        {0x81, 0xCC, 0x05, 0x02},    // map with an integer key that is no dictionary index
        {0x82, 0x01, 0x01, 0xA3, 's', 'e', 'q', 0x02},  // "seq" twice
        {0xA3, 'a', 'b'},            // string shorter than declared
        {0xA2, 0xC3, 0x28},          // invalid UTF-8
        {0xA3, 0xED, 0xA0, 0x80},    // UTF-16 surrogate in UTF-8
        {0xC4, 0x01, 0x00},          // binary that is not a number's text
        {0xD4, 0x01, 0x00},          // extension type
        {0xDD, 0xFF, 0xFF, 0xFF, 0xFF, 0x01},  // 4 billion elements claimed
        {0x01, 0x02},                // two values
    };
    for (const Bytes& payload : bad_payloads) {
      INFO("payload size " << payload.size());
      CHECK(decode_code(envelope(kCodecVersion, payload)) == ErrorCode::kRecordCorrupt);
    }
  }
  SECTION("nesting beyond the depth limit") {
    Bytes payload(kMaxDocumentDepth + 1, 0x91);
    payload.push_back(0xC0);
    CHECK(decode_code(envelope(kCodecVersion, payload)) == ErrorCode::kRecordCorrupt);
    Bytes shallow(kMaxDocumentDepth, 0x91);
    shallow.push_back(0xC0);
    CHECK(decode_record(envelope(kCodecVersion, shallow)).ok());
  }
}

TEST_CASE("records are bound to their user", "[codec]") {
  const Bytes mine = encode_record(bytes(json{{"u", 42}, {"e", 1}})).value();
  SECTION("the owner reads it") { CHECK(as_json(decode_record_for_user(mine, 42))["e"] == 1); }
  SECTION("another user is refused") {
    CHECK(decode_record_for_user(mine, 43).status().code() == ErrorCode::kRecordUserMismatch);
  }
  SECTION("a record without an owner is corrupt") {
    const Bytes ownerless = encode_record(bytes(json{{"e", 1}})).value();
    CHECK(decode_record_for_user(ownerless, 42).status().code() == ErrorCode::kRecordCorrupt);
    const Bytes not_object = encode_record(bytes(json::array({42}))).value();
    CHECK(decode_record_for_user(not_object, 42).status().code() == ErrorCode::kRecordCorrupt);
    const Bytes text_owner = encode_record(bytes(json{{"u", "42"}})).value();
    CHECK(decode_record_for_user(text_owner, 42).status().code() == ErrorCode::kRecordCorrupt);
  }
}

TEST_CASE("legacy v1 migration", "[codec]") {
  const std::string entry = R"({"state":{"userId":5000000001,"currentEarnings":0.1,
    "baseEarningRate":1.5,"lastUpdate":1700000000000,"startDate":1699990000000,
    "isActive":true,"syncStatus":"pending"},
    "pendingOperations":[{"id":"op-1","userId":5000000001,"type":"earnings_update",
      "data":{"amount":0.000000015,"note":"tick","ratio":0.25},"timestamp":1700000000000,
      "retryCount":2,"maxRetries":5}],
    "lastCleanup":1699000000000,"version":1})";

  SECTION("amounts come from the printed text, exactly") {
    json migrated = as_json(decode_legacy_v1(entry));
    CHECK(migrated["state"]["currentEarnings"] == "0.10000000");
    CHECK(migrated["state"]["baseEarningRate"] == "1.50000000");
    CHECK(migrated["state"]["userId"] == 5000000001);
    CHECK(migrated["state"]["syncStatus"] == "pending");
    CHECK(migrated["lastCleanup"] == 1699000000000);
    CHECK(migrated["version"] == 1);
    const json& op = migrated["pendingOperations"][0];
    CHECK(op["data"]["amount"] == "0.00000002");  // half-up at the 9th decimal
    CHECK(op["data"]["note"] == "tick");
    CHECK(op["data"]["ratio"] == 0.25);
    CHECK(op["retryCount"] == 2);
  }
  SECTION("rounding and exponents") {
    auto earnings_of = [](const std::string& number) {
      const std::string text = R"({"state":{"userId":1,"currentEarnings":)" + number +
                               R"(,"baseEarningRate":0,"lastUpdate":0,"startDate":0,)"
                               R"("isActive":false,"syncStatus":"synced"},"version":1})";
      auto migrated = decode_legacy_v1(text);
      return migrated.ok() ? as_json(migrated)["state"]["currentEarnings"].get<std::string>()
                           : std::string(migrated.status().code_name());
    };
    CHECK(earnings_of("12") == "12.00000000");
    CHECK(earnings_of("0.123456784999") == "0.12345678");
    CHECK(earnings_of("0.123456785") == "0.12345679");
    CHECK(earnings_of("1e-7") == "0.00000010");
    CHECK(earnings_of("4e-9") == "0.00000000");
    CHECK(earnings_of("5e-9") == "0.00000001");
    CHECK(earnings_of("1.5E+3") == "1500.00000000");
    CHECK(earnings_of("9999999999.999999994") == "9999999999.99999999");
    CHECK(earnings_of("9999999999.999999995") == "RECORD_CORRUPT");
    CHECK(earnings_of("1e10") == "RECORD_CORRUPT");
    CHECK(earnings_of("1e999999999999") == "RECORD_CORRUPT");
    CHECK(earnings_of("1e-999999999999") == "0.00000000");
    CHECK(earnings_of("-0.0") == "0.00000000");
    CHECK(earnings_of("-1") == "RECORD_CORRUPT");
    CHECK(earnings_of("-0.5") == "RECORD_CORRUPT");
    CHECK(earnings_of("null") == "RECORD_CORRUPT");
    CHECK(earnings_of("\"0.5\"") == "0.50000000");
    CHECK(earnings_of("\"abc\"") == "RECORD_CORRUPT");
    CHECK(earnings_of("true") == "RECORD_CORRUPT");
  }
  SECTION("fractional times are rounded down") {
    const std::string text = R"({"state":{"userId":1,"currentEarnings":1,"baseEarningRate":0,
      "lastUpdate":1700000000000.9,"startDate":1.7e12,"isActive":false,"syncStatus":"synced"}})";
    json migrated = as_json(decode_legacy_v1(text));
    CHECK(migrated["state"]["lastUpdate"] == 1700000000000);
    CHECK(migrated["state"]["startDate"] == 1700000000000);
    CHECK(migrated["pendingOperations"] == json::array());
    CHECK(migrated["lastCleanup"] == 0);
  }
  SECTION("ill-formed entries name the field") {
    auto message_of = [](const std::string& text) {
      auto migrated = decode_legacy_v1(text);
      CHECK_FALSE(migrated.ok());
      return migrated.status().message();
    };
    CHECK(decode_legacy_v1("{").status().code() == ErrorCode::kRecordCorrupt);
    CHECK(decode_legacy_v1("[]").status().code() == ErrorCode::kRecordCorrupt);
    CHECK(decode_legacy_v1(std::string(100, '[') + std::string(100, ']')).status().code() ==
          ErrorCode::kRecordCorrupt);
    CHECK(message_of(R"({"version":1})").find("state") != std::string::npos);
    CHECK(message_of(R"({"state":{"userId":0}})").find("state.userId") != std::string::npos);
    CHECK(message_of(R"({"state":{"userId":1,"currentEarnings":1,"baseEarningRate":1,
      "lastUpdate":-5,"startDate":0,"isActive":true,"syncStatus":"synced"}})")
              .find("lastUpdate") != std::string::npos);
    CHECK(message_of(R"({"state":{"userId":1,"currentEarnings":1,"baseEarningRate":1,
      "lastUpdate":0,"startDate":0,"isActive":1,"syncStatus":"synced"}})")
              .find("isActive") != std::string::npos);
    CHECK(message_of(R"({"state":{"userId":1,"currentEarnings":1,"baseEarningRate":1,
      "lastUpdate":0,"startDate":0,"isActive":true,"syncStatus":"lost"}})")
              .find("syncStatus") != std::string::npos);
  }
  SECTION("an operation of another user is refused") {
    std::string other = entry;
    other.replace(other.find("\"userId\":5000000001,\"type\""), 20, "\"userId\":5000000002,");
    CHECK(decode_legacy_v1(other).status().code() == ErrorCode::kRecordUserMismatch);
  }
  SECTION("a newer legacy version") {
    std::string newer = entry;
    newer.replace(newer.find("\"version\":1"), 11, "\"version\":7");
    CHECK(decode_legacy_v1(newer).status().code() == ErrorCode::kRecordVersion);
  }
  SECTION("a migrated entry round-trips through the envelope") {
    auto migrated = decode_legacy_v1(entry);
    REQUIRE(migrated.ok());
    CHECK(as_json(decode_record(encode_record(migrated.value().bytes()).value())) == as_json(migrated));
  }
}

TEST_CASE("record round trip", "[codec]") {
  const json document = {{"u", 9007199254740991},
                         {"s", {{"e", 123456789012345678}, {"r", 150000000}, {"a", true}}},
                         {"o", json::array({{{"q", 7}, {"t", "accrual"}, {"m", -5}}})},
                         {"x", nullptr},
                         {"f", 0.5},
                         {"n", "ünïcødé ✓"}};
  auto encoded = encode_record(bytes(document));
  REQUIRE(encoded.ok());
  CHECK(as_json(decode_record(encoded.value())) == document);
  CHECK(as_json(decode_record_for_user(encoded.value(), 9007199254740991)) == document);
}
