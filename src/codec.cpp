#include "codec.h"

#include <array>
#include <cstring>
#include <utility>

#include "amount.h"
#include "json_fields.h"

namespace earnings {

using nlohmann::json;

const char* const kLegacyAmountKeys[6] = {"amount",      "earnings",       "currentEarnings",
                                          "totalEarned", "baseEarningRate", "rate"};

namespace {

constexpr std::uint8_t kMagic[3] = {'T', 'E', 'G'};

constexpr std::array<std::uint32_t, 256> make_crc_table() {
  std::array<std::uint32_t, 256> table{};
  for (std::uint32_t n = 0; n < 256; ++n) {
    std::uint32_t c = n;
    for (int k = 0; k < 8; ++k) c = (c & 1u) ? 0xEDB88320u ^ (c >> 1) : c >> 1;
    table[n] = c;
  }
  return table;
}

constexpr std::array<std::uint32_t, 256> kCrcTable = make_crc_table();

Status corrupt(const std::string& what) {
  return Status(ErrorCode::kRecordCorrupt, "stored record is corrupt: " + what);
}

std::uint32_t read_u32_le(const std::uint8_t* p) {
  return static_cast<std::uint32_t>(p[0]) | static_cast<std::uint32_t>(p[1]) << 8 |
         static_cast<std::uint32_t>(p[2]) << 16 | static_cast<std::uint32_t>(p[3]) << 24;
}

void write_u32_le(std::uint8_t* p, std::uint32_t v) {
  for (int k = 0; k < 4; ++k) p[k] = static_cast<std::uint8_t>(v >> (8 * k));
}

// True when the document can be written and read back: no binary or discarded values, and no
// nesting deeper than `budget` levels. Stops descending as soon as it is too deep, so the check
// itself stays within kMaxDocumentDepth frames.
bool storable(const json& value, std::size_t budget) {
  if (value.is_binary() || value.is_discarded()) return false;
  if (!value.is_structured()) return true;
  if (budget == 0) return false;
  for (const json& child : value) {
    if (!storable(child, budget - 1)) return false;
  }
  return true;
}

// Length of the UTF-8 sequence starting at p (within n bytes), or 0 if ill-formed (overlong,
// surrogate, above U+10FFFF, truncated). A decoded string with invalid UTF-8 would abort the
// module later, when nlohmann::json dumps it.
std::size_t utf8_sequence(const std::uint8_t* p, std::size_t n) {
  const std::uint8_t b = p[0];
  if (b < 0x80) return 1;
  auto cont = [&](std::size_t i) { return i < n && (p[i] & 0xC0) == 0x80; };
  if (b >= 0xC2 && b <= 0xDF) return cont(1) ? 2 : 0;
  if (b >= 0xE0 && b <= 0xEF) {
    if (!cont(1) || !cont(2)) return 0;
    if (b == 0xE0 && p[1] < 0xA0) return 0;
    if (b == 0xED && p[1] > 0x9F) return 0;
    return 3;
  }
  if (b >= 0xF0 && b <= 0xF4) {
    if (!cont(1) || !cont(2) || !cont(3)) return 0;
    if (b == 0xF0 && p[1] < 0x90) return 0;
    if (b == 0xF4 && p[1] > 0x8F) return 0;
    return 4;
  }
  return 0;
}

bool valid_utf8(const std::uint8_t* p, std::size_t n) {
  std::size_t i = 0;
  while (i < n) {
    const std::size_t step = utf8_sequence(p + i, n - i);
    if (step == 0) return false;
    i += step;
  }
  return true;
}

// Map keys that records repeat (audit entries, outbox ops, state, metrics) are written as one
// byte: a positive fixint indexing this table instead of the key's text. Part of format version
// 2: entries may only ever be appended, never changed, removed or reordered.
constexpr const char* kKeyDictionary[] = {
    "id", "seq", "type", "amount", "from", "to", "rate", "userId", "operationType", "oldValue",
    "newValue", "timestamp", "source", "metadata", "ticks", "fromTime", "toTime", "ms",
    "elapsedMs", "accruedMs", "sent", "clientId", "ops", "nextSeq", "open", "rejected", "code",
    "reason", "at", "op", "state", "currentEarnings", "baseEarningRate", "lastUpdate",
    "startDate", "isActive", "syncStatus", "pending", "syncedTotal", "heldForVerification",
    "underReview", "accrualRemainder", "lastWall", "lastMono", "serverOffsetMs", "hasServerTime",
    "hasClock", "lastSeq", "pendingReview", "counters", "syncAttempts", "syncSuccesses",
    "syncFailures", "retries", "opsSent", "opsApplied", "opsDuplicate", "opsRejected",
    "opsReview", "opsGap", "conflicts", "corruptionDetected", "clockJumps", "offlineMs",
    "queueDepth", "queueDepthMax", "latencyCount", "latencyTotalMs", "latencyWindow",
    "latencies", "network", "timeout", "server", "rate_limited", "response_invalid", "capacity",
    "nextId", "dropped", "entries", "audit", "metrics", "outbox", "backoff", "rng", "dirtySince",
    "requestAt", "syncNow", "kind", "difference", "serverTotal", "localCurrent", "localSynced",
    "localState", "expectedTotal", "detail", "message", "context", "flagForReview", "reviewFlag",
    "records", "credited", "review", "status", "expectedSeq", "total", "attempt", "failures",
    "nextRetryAt", "events", "permanent", "failed", "waiting", "applied", "duplicate", "gap",
    "held", "spentMs", "budgetMs", "unsyncedMs", "skewMs", "offsetMs",
    "previousOffsetMs", "serverLastUpdate", "serverLastSeq", "newClientId", "firstSeq",
    "httpStatus", "retryInMs"};
constexpr std::size_t kKeyDictionarySize = sizeof(kKeyDictionary) / sizeof(kKeyDictionary[0]);
static_assert(kKeyDictionarySize <= 128, "dictionary indexes are positive fixints");

// The dictionary's indexes in key order, for a binary search; sorted once, by insertion, which
// keeps a hash table (about 1 KB gzip of the client module) and a sort instantiation out.
const std::array<std::uint8_t, kKeyDictionarySize>& keys_in_order() {
  static const std::array<std::uint8_t, kKeyDictionarySize> order = [] {
    std::array<std::uint8_t, kKeyDictionarySize> sorted{};
    for (std::size_t k = 0; k < kKeyDictionarySize; ++k) {
      std::size_t at = k;
      while (at > 0 && std::strcmp(kKeyDictionary[sorted[at - 1]], kKeyDictionary[k]) > 0) {
        sorted[at] = sorted[at - 1];
        --at;
      }
      sorted[at] = static_cast<std::uint8_t>(k);
    }
    return sorted;
  }();
  return order;
}

// The dictionary index of `key`, or -1. std::string::compare, not strcmp, so a key with an
// embedded NUL never matches the entry it starts with.
int dictionary_index(const std::string& key) {
  const auto& order = keys_in_order();
  std::size_t low = 0;
  std::size_t high = order.size();
  while (low < high) {
    const std::size_t middle = (low + high) / 2;
    const int order_of_key = key.compare(kKeyDictionary[order[middle]]);
    if (order_of_key == 0) return order[middle];
    if (order_of_key > 0) {
      low = middle + 1;
    } else {
      high = middle;
    }
  }
  return -1;
}

void put_big_endian(Bytes& out, std::uint64_t v, int bytes) {
  for (int k = bytes - 1; k >= 0; --k) out.push_back(static_cast<std::uint8_t>(v >> (8 * k)));
}

// MessagePack with the smallest encoding of each value, as nlohmann::json::to_msgpack writes it,
// except for dictionary keys. Floats are always float64 so that every double round-trips.
void write_length(Bytes& out, std::size_t n, std::uint8_t fix_tag, std::size_t fix_max,
                  std::uint8_t tag8, std::uint8_t tag16, std::uint8_t tag32) {
  if (n <= fix_max) {
    out.push_back(static_cast<std::uint8_t>(fix_tag | n));
  } else if (tag8 != 0 && n <= 0xFF) {
    out.push_back(tag8);
    put_big_endian(out, n, 1);
  } else if (n <= 0xFFFF) {
    out.push_back(tag16);
    put_big_endian(out, n, 2);
  } else {
    out.push_back(tag32);
    put_big_endian(out, n, 4);
  }
}

void write_string(Bytes& out, const std::string& text) {
  write_length(out, text.size(), 0xA0, 31, 0xD9, 0xDA, 0xDB);
  out.insert(out.end(), text.begin(), text.end());
}

void write_unsigned(Bytes& out, std::uint64_t v) {
  if (v <= 0x7F) {
    out.push_back(static_cast<std::uint8_t>(v));
  } else if (v <= 0xFF) {
    out.push_back(0xCC);
    put_big_endian(out, v, 1);
  } else if (v <= 0xFFFF) {
    out.push_back(0xCD);
    put_big_endian(out, v, 2);
  } else if (v <= 0xFFFFFFFFu) {
    out.push_back(0xCE);
    put_big_endian(out, v, 4);
  } else {
    out.push_back(0xCF);
    put_big_endian(out, v, 8);
  }
}

void write_signed(Bytes& out, std::int64_t v) {
  if (v >= 0) return write_unsigned(out, static_cast<std::uint64_t>(v));
  const auto bits = static_cast<std::uint64_t>(v);
  if (v >= -32) {
    out.push_back(static_cast<std::uint8_t>(bits));
  } else if (v >= INT8_MIN) {
    out.push_back(0xD0);
    put_big_endian(out, bits, 1);
  } else if (v >= INT16_MIN) {
    out.push_back(0xD1);
    put_big_endian(out, bits, 2);
  } else if (v >= INT32_MIN) {
    out.push_back(0xD2);
    put_big_endian(out, bits, 4);
  } else {
    out.push_back(0xD3);
    put_big_endian(out, bits, 8);
  }
}

// REQUIRES: storable(value, kMaxDocumentDepth).
void write_value(Bytes& out, const json& value) {
  switch (value.type()) {
    case json::value_t::null:
      out.push_back(0xC0);
      break;
    case json::value_t::boolean:
      out.push_back(value.get<bool>() ? 0xC3 : 0xC2);
      break;
    case json::value_t::number_unsigned:
      write_unsigned(out, value.get<std::uint64_t>());
      break;
    case json::value_t::number_integer:
      write_signed(out, value.get<std::int64_t>());
      break;
    case json::value_t::number_float: {
      const double number = value.get<double>();
      std::uint64_t bits = 0;
      std::memcpy(&bits, &number, sizeof bits);
      out.push_back(0xCB);
      put_big_endian(out, bits, 8);
      break;
    }
    case json::value_t::string:
      write_string(out, value.get_ref<const std::string&>());
      break;
    case json::value_t::array:
      write_length(out, value.size(), 0x90, 15, 0, 0xDC, 0xDD);
      for (const json& item : value) write_value(out, item);
      break;
    case json::value_t::object:
      write_length(out, value.size(), 0x80, 15, 0, 0xDE, 0xDF);
      for (auto it = value.begin(); it != value.end(); ++it) {
        const int index = dictionary_index(it.key());
        if (index >= 0) {
          out.push_back(static_cast<std::uint8_t>(index));
        } else {
          write_string(out, it.key());
        }
        write_value(out, it.value());
      }
      break;
    case json::value_t::binary:
    case json::value_t::discarded:
      break;
  }
}

// Reads what check_msgpack accepted; no bounds can fail here any more.
class PayloadReader {
 public:
  explicit PayloadReader(const std::uint8_t* data) : data_(data) {}

  Result<json> value() {
    const std::uint8_t tag = data_[pos_++];
    if (tag <= 0x7F) return json(static_cast<std::uint64_t>(tag));
    if (tag >= 0xE0) return json(static_cast<std::int64_t>(static_cast<std::int8_t>(tag)));
    if (tag >= 0x80 && tag <= 0x8F) return object(tag & 0x0F);
    if (tag >= 0x90 && tag <= 0x9F) return array(tag & 0x0F);
    if (tag >= 0xA0 && tag <= 0xBF) return json(text(tag & 0x1F));
    switch (tag) {
      case 0xC0: return json(nullptr);
      case 0xC2: return json(false);
      case 0xC3: return json(true);
      case 0xCA: {
        const auto bits = static_cast<std::uint32_t>(big_endian(4));
        float number = 0;
        std::memcpy(&number, &bits, sizeof number);
        return json(static_cast<double>(number));
      }
      case 0xCB: {
        const std::uint64_t bits = big_endian(8);
        double number = 0;
        std::memcpy(&number, &bits, sizeof number);
        return json(number);
      }
      case 0xCC: return json(big_endian(1));
      case 0xCD: return json(big_endian(2));
      case 0xCE: return json(big_endian(4));
      case 0xCF: return json(big_endian(8));
      case 0xD0: return json(static_cast<std::int64_t>(static_cast<std::int8_t>(big_endian(1))));
      case 0xD1: return json(static_cast<std::int64_t>(static_cast<std::int16_t>(big_endian(2))));
      case 0xD2: return json(static_cast<std::int64_t>(static_cast<std::int32_t>(big_endian(4))));
      case 0xD3: return json(static_cast<std::int64_t>(big_endian(8)));
      case 0xD9: return json(text(big_endian(1)));
      case 0xDA: return json(text(big_endian(2)));
      case 0xDB: return json(text(big_endian(4)));
      case 0xDC: return array(big_endian(2));
      case 0xDD: return array(big_endian(4));
      case 0xDE: return object(big_endian(2));
      default: return object(big_endian(4));
    }
  }

 private:
  std::uint64_t big_endian(int bytes) {
    std::uint64_t v = 0;
    for (int k = 0; k < bytes; ++k) v = (v << 8) | data_[pos_++];
    return v;
  }
  std::string text(std::uint64_t length) {
    std::string out(reinterpret_cast<const char*>(data_ + pos_), static_cast<std::size_t>(length));
    pos_ += static_cast<std::size_t>(length);
    return out;
  }
  Result<json> array(std::uint64_t count) {
    json out = json::array();
    for (std::uint64_t k = 0; k < count; ++k) {
      auto item = value();
      if (!item.ok()) return item;
      out.push_back(std::move(item).value());
    }
    return out;
  }
  Result<json> object(std::uint64_t count) {
    json out = json::object();
    for (std::uint64_t k = 0; k < count; ++k) {
      const std::uint8_t tag = data_[pos_];
      std::string key;
      if (tag <= 0x7F) {
        ++pos_;
        key = kKeyDictionary[tag];
      } else {
        auto read = value();
        key = read.value().get<std::string>();
      }
      if (out.contains(key)) return corrupt("payload repeats the key \"" + key.substr(0, 40) + "\"");
      auto item = value();
      if (!item.ok()) return item;
      out[key] = std::move(item).value();
    }
    return out;
  }

  const std::uint8_t* data_;
  std::size_t pos_ = 0;
};

// Checks, without recursion or allocation proportional to claimed sizes, that `payload` is
// exactly one MessagePack value of the kinds a JSON document produces (nil, bool, integers,
// floats, UTF-8 strings, arrays, maps keyed by strings or dictionary indexes), nested at most
// kMaxDocumentDepth deep. Only then is it read by PayloadReader, which recurses and trusts lengths.
Status check_msgpack(const std::uint8_t* payload, std::size_t size) {
  struct Frame {
    std::uint64_t remaining;
    bool is_map;
  };
  std::vector<Frame> frames;
  std::size_t pos = 0;
  bool root_done = false;
  while (!root_done) {
    bool expect_key = !frames.empty() && frames.back().is_map && frames.back().remaining % 2 == 0;
    if (pos >= size) return corrupt("payload ends inside a value");
    const std::uint8_t tag = payload[pos++];
    const std::size_t left = size - pos;
    std::uint64_t length = 0;  // bytes of scalar data, or element count of a container
    bool is_string = false;
    bool is_container = false;
    bool is_map = false;
    auto need = [&](std::size_t bytes) { return left >= bytes; };
    auto big_endian = [&](std::size_t bytes) {
      std::uint64_t v = 0;
      for (std::size_t k = 0; k < bytes; ++k) v = (v << 8) | payload[pos + k];
      pos += bytes;
      return v;
    };
    if (tag <= 0x7F || tag >= 0xE0 || tag == 0xC0 || tag == 0xC2 || tag == 0xC3) {
      length = 0;
    } else if (tag >= 0x80 && tag <= 0x8F) {
      is_container = is_map = true;
      length = tag & 0x0F;
    } else if (tag >= 0x90 && tag <= 0x9F) {
      is_container = true;
      length = tag & 0x0F;
    } else if (tag >= 0xA0 && tag <= 0xBF) {
      is_string = true;
      length = tag & 0x1F;
    } else {
      switch (tag) {
        case 0xCA: length = 4; break;
        case 0xCB: length = 8; break;
        case 0xCC: case 0xD0: length = 1; break;
        case 0xCD: case 0xD1: length = 2; break;
        case 0xCE: case 0xD2: length = 4; break;
        case 0xCF: case 0xD3: length = 8; break;
        case 0xD9: case 0xDA: case 0xDB: {
          const std::size_t width = tag == 0xD9 ? 1 : tag == 0xDA ? 2 : 4;
          if (!need(width)) return corrupt("payload ends inside a string length");
          is_string = true;
          length = big_endian(width);
          break;
        }
        case 0xDC: case 0xDD: case 0xDE: case 0xDF: {
          const std::size_t width = (tag == 0xDC || tag == 0xDE) ? 2 : 4;
          if (!need(width)) return corrupt("payload ends inside a container length");
          is_container = true;
          is_map = tag >= 0xDE;
          length = big_endian(width);
          break;
        }
        default:
          return corrupt("payload holds a MessagePack type a document never contains");
      }
    }
    const bool dictionary_key = tag < kKeyDictionarySize;
    if (expect_key && !is_string && !dictionary_key) {
      return corrupt("payload has a map key that is neither a string nor a dictionary key");
    }
    if (is_container) {
      const std::uint64_t elements = is_map ? length * 2 : length;
      if (elements > size - pos) return corrupt("payload claims more elements than it has bytes");
      if (elements > 0) {
        if (frames.size() >= kMaxDocumentDepth) return corrupt("payload nests too deeply");
        frames.push_back(Frame{elements, is_map});
        continue;
      }
    } else {
      if (length > size - pos) return corrupt("payload ends inside a value");
      if (is_string && !valid_utf8(payload + pos, static_cast<std::size_t>(length))) {
        return corrupt("payload holds a string that is not UTF-8");
      }
      pos += static_cast<std::size_t>(length);
    }
    // A value is complete: close every container it completes.
    while (true) {
      if (frames.empty()) {
        root_done = true;
        break;
      }
      if (--frames.back().remaining > 0) break;
      frames.pop_back();
    }
  }
  if (pos != size) return corrupt("payload has bytes after the document");
  return Status::Ok();
}

}  // namespace

std::uint32_t crc32(const std::uint8_t* data, std::size_t size, std::uint32_t previous) {
  std::uint32_t c = previous ^ 0xFFFFFFFFu;
  for (std::size_t i = 0; i < size; ++i) c = kCrcTable[(c ^ data[i]) & 0xFFu] ^ (c >> 8);
  return c ^ 0xFFFFFFFFu;
}

Result<Bytes> encode_record(const json& document) {
  if (!storable(document, kMaxDocumentDepth)) {
    return corrupt("cannot store a document that nests too deeply or holds binary values");
  }
  Bytes payload;
  write_value(payload, document);
  if (payload.size() > kMaxRecordPayload) return corrupt("document is larger than 4 MiB");
  // Refuse to write what could never be read back (a string that is not UTF-8, say): a record
  // that cannot be decoded is lost earnings.
  Status readable = check_msgpack(payload.data(), payload.size());
  if (!readable.ok()) return Status(ErrorCode::kRecordCorrupt, "cannot store this document: " + readable.message());
  Bytes out(kEnvelopeHeaderSize);
  out[0] = kMagic[0];
  out[1] = kMagic[1];
  out[2] = kMagic[2];
  out[3] = kCodecVersion;
  write_u32_le(&out[4], static_cast<std::uint32_t>(payload.size()));
  std::uint32_t crc = crc32(&out[3], 5);
  crc = crc32(payload.data(), payload.size(), crc);
  write_u32_le(&out[8], crc);
  out.insert(out.end(), payload.begin(), payload.end());
  return out;
}

Result<json> decode_record(const std::uint8_t* data, std::size_t size) {
  if (data == nullptr || size < kEnvelopeHeaderSize) {
    return corrupt("shorter than the 12-byte header (" + std::to_string(size) + " bytes)");
  }
  if (data[0] != kMagic[0] || data[1] != kMagic[1] || data[2] != kMagic[2]) {
    return corrupt("wrong magic (not a TEG record)");
  }
  const std::uint32_t length = read_u32_le(data + 4);
  const std::size_t actual = size - kEnvelopeHeaderSize;
  if (length < actual) return corrupt("trailing bytes after the payload");
  if (length > actual) {
    return corrupt("truncated: header says " + std::to_string(length) + " payload bytes, " +
                   std::to_string(actual) + " present");
  }
  std::uint32_t crc = crc32(data + 3, 5);
  crc = crc32(data + kEnvelopeHeaderSize, actual, crc);
  if (crc != read_u32_le(data + 8)) return corrupt("checksum mismatch");
  const std::uint8_t version = data[3];
  if (version > kCodecVersion) {
    return Status(ErrorCode::kRecordVersion,
                  "stored record has version " + std::to_string(version) +
                      ", newer than this library's " + std::to_string(kCodecVersion));
  }
  if (version != kCodecVersion) {
    return corrupt("envelope version " + std::to_string(version) + " was never written");
  }
  if (length > kMaxRecordPayload) return corrupt("payload is larger than 4 MiB");
  Status shape = check_msgpack(data + kEnvelopeHeaderSize, actual);
  if (!shape.ok()) return shape;
  return PayloadReader(data + kEnvelopeHeaderSize).value();
}

Result<json> decode_record(const Bytes& bytes) { return decode_record(bytes.data(), bytes.size()); }

Result<json> decode_record_for_user(const Bytes& bytes, std::int64_t user_id) {
  auto decoded = decode_record(bytes);
  if (!decoded.ok()) return decoded;
  const json& document = decoded.value();
  if (!document.is_object()) return corrupt("document is not an object");
  auto owner = document.find(kRecordUserKey);
  if (owner == document.end()) return corrupt("document names no owner");
  auto owner_id = json_fields::safe_integer_value(*owner, "owner", 1);
  if (!owner_id.ok()) return corrupt("document owner is not a user id");
  if (owner_id.value() != user_id) {
    return Status(ErrorCode::kRecordUserMismatch,
                  "stored record belongs to another user, not " + std::to_string(user_id));
  }
  return decoded;
}

}  // namespace earnings
