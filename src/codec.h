// The stored form of one user's record (Properties 8, 15, 22). A record is a JSON document (the
// engine decides its keys) wrapped in a fixed 12-byte envelope that never changes across
// versions:
//
//   offset 0  "TEG"                       magic
//   offset 3  version (u8)                kCodecVersion for everything written now
//   offset 4  payload length (u32 LE)
//   offset 8  CRC-32/IEEE (u32 LE) of bytes [3, 8) followed by the payload
//   offset 12 payload: the MessagePack encoding of the document, where a map key found in the
//             codec's key dictionary (the keys records repeat: "seq", "amount", "timestamp",
//             "operationType", ...) is written as a one-byte index instead of its text
//
// The checksum covers the version and length bytes as well as the payload, so that a flipped bit
// anywhere in a record reads as corruption and never as "a record from a newer version".
// Decoding never crashes and never returns part of a document: any failure (magic, length,
// checksum, truncation, trailing bytes, malformed or too deeply nested MessagePack, invalid
// UTF-8) is kRecordCorrupt with a message naming what failed; an intact record of a newer
// version is kRecordVersion.
//
// Version 1 was never an envelope: it is the seed's plain-JSON `LocalEarningsData` entry that
// existing apps keep in localStorage. decode_legacy_v1 converts it, amounts included, exactly.
#pragma once

#include <cstddef>
#include <cstdint>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "status.h"

namespace earnings {

using Bytes = std::vector<std::uint8_t>;

constexpr std::uint8_t kCodecVersion = 2;
constexpr std::size_t kEnvelopeHeaderSize = 12;
// A stored record is bounded (Telegram DeviceStorage holds 5 MB in all).
constexpr std::size_t kMaxRecordPayload = 4 * 1024 * 1024;
// Deeper documents are refused: decoding recurses, and the wasm stack is small.
constexpr std::size_t kMaxDocumentDepth = 64;
// Top-level key of a record document holding the owning user id (a positive integer). The
// engine writes it; decode_record_for_user checks it.
constexpr const char* kRecordUserKey = "u";

// CRC-32/IEEE (polynomial 0xEDB88320 reflected, init and final xor 0xFFFFFFFF), chainable:
// crc32(b, crc32(a)) == crc32(a + b).
std::uint32_t crc32(const std::uint8_t* data, std::size_t size, std::uint32_t previous = 0);

// A document that could never be read back (discarded, deeper than kMaxDocumentDepth, a string
// that is not UTF-8, a binary value, a payload above kMaxRecordPayload) is kRecordCorrupt.
Result<Bytes> encode_record(const nlohmann::json& document);

Result<nlohmann::json> decode_record(const std::uint8_t* data, std::size_t size);
Result<nlohmann::json> decode_record(const Bytes& bytes);

// decode_record, then the document must be an object whose kRecordUserKey equals `user_id`:
// otherwise kRecordUserMismatch (another user's record) or kRecordCorrupt (no owner).
Result<nlohmann::json> decode_record_for_user(const Bytes& bytes, std::int64_t user_id);

// The legacy localStorage entry (one user's value of the seed's `LocalEarningsData` map):
//   {"state":{"userId","currentEarnings","baseEarningRate","lastUpdate","startDate",
//             "isActive","syncStatus"},
//    "pendingOperations":[{"id","userId","type","data","timestamp","retryCount",
//                          "maxRetries"}...],
//    "lastCleanup":n,"version":1}
// Returned with the same keys, but every amount a decimal string with 8 decimals taken from the
// number's printed text (round half-up at the 9th decimal; JS prints 0.1 as "0.1", so the
// amount is exactly 0.10000000, never 0.1000000000000000055...). Amounts are
// state.currentEarnings, state.baseEarningRate and, inside an operation's `data` object, the
// members named in kLegacyAmountKeys. Times are non-negative integers (a fractional time is
// rounded down). Missing `pendingOperations`/`lastCleanup` default to [] and 0. NaN (stored by
// JSON.stringify as null), negative or too large amounts, wrong types, an unknown syncStatus or
// operation type, or an ill-formed text are kRecordCorrupt naming the field; a version other
// than 1 is kRecordVersion.
extern const char* const kLegacyAmountKeys[6];
Result<nlohmann::json> decode_legacy_v1(const std::string& text);

}  // namespace earnings
