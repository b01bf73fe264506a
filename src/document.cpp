#include "document.h"

#include <algorithm>
#include <cstring>
#include <utility>

#include <nlohmann/json.hpp>

#include "heap_sort.h"

namespace earnings {
namespace {

// Map keys that records repeat (audit entries, outbox ops, state, metrics) are written as one
// byte: a positive fixint indexing this table instead of the key's text. Part of record format
// version 2 (codec.h): entries may only ever be appended, never changed, removed or reordered.
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
const std::uint8_t* keys_in_order() {
  static const struct Order {
    std::uint8_t index[kKeyDictionarySize];
    Order() : index() {
      for (std::size_t k = 0; k < kKeyDictionarySize; ++k) {
        std::size_t at = k;
        while (at > 0 && std::strcmp(kKeyDictionary[index[at - 1]], kKeyDictionary[k]) > 0) {
          index[at] = index[at - 1];
          --at;
        }
        index[at] = static_cast<std::uint8_t>(k);
      }
    }
  } order;
  return order.index;
}

// Orders (text, size) pairs like std::string::compare, so a key with an embedded NUL never
// matches the entry it starts with.
int compare_text(const char* a, std::size_t a_size, const char* b, std::size_t b_size) {
  const int common = std::memcmp(a, b, std::min(a_size, b_size));
  if (common != 0) return common;
  return a_size < b_size ? -1 : a_size > b_size ? 1 : 0;
}

// The dictionary index of a key, or -1.
int dictionary_index(const char* key, std::size_t size) {
  const std::uint8_t* order = keys_in_order();
  std::size_t low = 0;
  std::size_t high = kKeyDictionarySize;
  while (low < high) {
    const std::size_t middle = (low + high) / 2;
    const char* entry = kKeyDictionary[order[middle]];
    const int order_of_key = compare_text(key, size, entry, std::strlen(entry));
    if (order_of_key == 0) return order[middle];
    if (order_of_key > 0) {
      low = middle + 1;
    } else {
      high = middle;
    }
  }
  return -1;
}

// Length of the UTF-8 sequence starting at p (within n bytes), or 0 if ill-formed (overlong,
// surrogate, above U+10FFFF, truncated).
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

void put_big_endian(Bytes& out, std::uint64_t v, int bytes) {
  for (int k = bytes - 1; k >= 0; --k) out.push_back(static_cast<std::uint8_t>(v >> (8 * k)));
}

std::uint64_t read_big_endian(const std::uint8_t* p, std::size_t bytes) {
  std::uint64_t v = 0;
  for (std::size_t k = 0; k < bytes; ++k) v = (v << 8) | p[k];
  return v;
}

// MessagePack's smallest encoding of a length: fix_tag | n up to fix_max, then tag8 (when the
// kind has one), tag16, tag32.
void put_length(Bytes& out, std::size_t n, std::uint8_t fix_tag, std::size_t fix_max,
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

void put_string(Bytes& out, const char* text, std::size_t size) {
  const auto* bytes = reinterpret_cast<const std::uint8_t*>(text);
  if (valid_utf8(bytes, size)) {
    put_length(out, size, 0xA0, 31, 0xD9, 0xDA, 0xDB);
    out.insert(out.end(), bytes, bytes + size);
    return;
  }
  std::string repaired;
  for (std::size_t i = 0; i < size;) {
    const std::size_t step = utf8_sequence(bytes + i, size - i);
    if (step == 0) {
      repaired += "\xEF\xBF\xBD";
      ++i;
    } else {
      repaired.append(text + i, step);
      i += step;
    }
  }
  put_string(out, repaired.data(), repaired.size());
}

void put_unsigned(Bytes& out, std::uint64_t v) {
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

void put_signed(Bytes& out, std::int64_t v) {
  if (v >= 0) return put_unsigned(out, static_cast<std::uint64_t>(v));
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

// Where a string's (or number text's) bytes are, given its tag at p. REQUIRES: p starts a
// checked string or number text.
std::pair<const char*, std::size_t> string_at(const std::uint8_t* p) {
  const std::uint8_t tag = p[0];
  std::size_t width = 0;
  std::size_t size = 0;
  if (tag >= 0xA0 && tag <= 0xBF) {
    size = tag & 0x1F;
  } else {
    width = (tag == 0xD9 || tag == 0xC4) ? 1 : (tag == 0xDA || tag == 0xC5) ? 2 : 4;
    size = static_cast<std::size_t>(read_big_endian(p + 1, width));
  }
  return {reinterpret_cast<const char*>(p + 1 + width), size};
}

// A map key's text, given its token at p (a dictionary index or a string).
std::pair<const char*, std::size_t> key_at(const std::uint8_t* p) {
  if (p[0] < 0x80) {
    const char* word = kKeyDictionary[p[0]];
    return {word, std::strlen(word)};
  }
  return string_at(p);
}

void put_json_string(std::string& out, const char* text, std::size_t size) {
  out += '"';
  for (std::size_t i = 0; i < size; ++i) {
    const auto c = static_cast<unsigned char>(text[i]);
    switch (c) {
      case '"': out += "\\\""; break;
      case '\\': out += "\\\\"; break;
      case '\b': out += "\\b"; break;
      case '\f': out += "\\f"; break;
      case '\n': out += "\\n"; break;
      case '\r': out += "\\r"; break;
      case '\t': out += "\\t"; break;
      default:
        if (c < 0x20) {
          out += "\\u00";
          out += "0123456789abcdef"[c >> 4];
          out += "0123456789abcdef"[c & 0xF];
        } else {
          out += static_cast<char>(c);
        }
    }
  }
  out += '"';
}

void put_json_integer(std::string& out, std::uint64_t magnitude, bool negative) {
  char digits[20];
  int count = 0;
  do {
    digits[count++] = static_cast<char>('0' + magnitude % 10);
    magnitude /= 10;
  } while (magnitude != 0);
  if (negative) out += '-';
  while (count > 0) out += digits[--count];
}

// Writes the value at p as JSON and returns where the next value starts. REQUIRES: p starts a
// value of a checked document or of a writer's output (so nothing here can run out of bounds).
const std::uint8_t* put_json(std::string& out, const std::uint8_t* p) {
  const std::uint8_t tag = p[0];
  if (tag <= 0x7F) {
    put_json_integer(out, tag, false);
    return p + 1;
  }
  if (tag >= 0xE0) {
    put_json_integer(out, static_cast<std::uint64_t>(-static_cast<std::int64_t>(static_cast<std::int8_t>(tag))), true);
    return p + 1;
  }
  if ((tag >= 0xA0 && tag <= 0xBF) || (tag >= 0xD9 && tag <= 0xDB) || (tag >= 0xC4 && tag <= 0xC6)) {
    const auto text = string_at(p);
    if (tag >= 0xC4 && tag <= 0xC6) {
      out.append(text.first, text.second);
    } else {
      put_json_string(out, text.first, text.second);
    }
    return reinterpret_cast<const std::uint8_t*>(text.first + text.second);
  }
  const bool map = (tag >= 0x80 && tag <= 0x8F) || tag == 0xDE || tag == 0xDF;
  const bool array = (tag >= 0x90 && tag <= 0x9F) || tag == 0xDC || tag == 0xDD;
  if (map || array) {
    std::size_t count = tag & 0x0F;
    std::size_t header = 1;
    if (tag >= 0xDC) {
      header = (tag == 0xDC || tag == 0xDE) ? 3 : 5;
      count = static_cast<std::size_t>(read_big_endian(p + 1, header - 1));
    }
    p += header;
    out += map ? '{' : '[';
    for (std::size_t k = 0; k < count; ++k) {
      if (k > 0) out += ',';
      if (map) {
        const auto name = key_at(p);
        put_json_string(out, name.first, name.second);
        out += ':';
        p = p[0] < 0x80 ? p + 1 : reinterpret_cast<const std::uint8_t*>(name.first + name.second);
      }
      p = put_json(out, p);
    }
    out += map ? '}' : ']';
    return p;
  }
  switch (tag) {
    case 0xC2: out += "false"; return p + 1;
    case 0xC3: out += "true"; return p + 1;
    case 0xCC: case 0xCD: case 0xCE: case 0xCF: {
      const std::size_t width = std::size_t{1} << (tag - 0xCC);
      put_json_integer(out, read_big_endian(p + 1, width), false);
      return p + 1 + width;
    }
    case 0xD0: case 0xD1: case 0xD2: case 0xD3: {
      const std::size_t width = std::size_t{1} << (tag - 0xD0);
      std::uint64_t bits = read_big_endian(p + 1, width);
      // Sign-extend the width's two's complement to 64 bits.
      if (width < 8 && (bits >> (8 * width - 1)) != 0) bits |= ~std::uint64_t{0} << (8 * width);
      const auto number = static_cast<std::int64_t>(bits);
      put_json_integer(out, number < 0 ? 0 - bits : bits, number < 0);
      return p + 1 + width;
    }
    default: out += "null"; return p + 1;
  }
}

}  // namespace

// ---- writing ----

void DocumentWriter::counted() {
  if (!open_.empty() && !open_.back().map) ++open_.back().count;
}

void DocumentWriter::open(bool map) {
  counted();
  open_.push_back(Open{out_.size(), 0, map});
  out_.push_back(0);  // the header, written once the count is known
}

DocumentWriter& DocumentWriter::begin_map() {
  open(true);
  return *this;
}

DocumentWriter& DocumentWriter::begin_array() {
  open(false);
  return *this;
}

DocumentWriter& DocumentWriter::end() {
  const Open done = open_.back();
  open_.pop_back();
  Bytes header;
  if (done.map) {
    put_length(header, done.count, 0x80, 15, 0, 0xDE, 0xDF);
  } else {
    put_length(header, done.count, 0x90, 15, 0, 0xDC, 0xDD);
  }
  out_[done.header] = header[0];
  out_.insert(out_.begin() + static_cast<std::ptrdiff_t>(done.header) + 1, header.begin() + 1, header.end());
  return *this;
}

DocumentWriter& DocumentWriter::key_text(const char* name, std::size_t size) {
  ++open_.back().count;
  const int index = dictionary_index(name, size);
  if (index >= 0) {
    out_.push_back(static_cast<std::uint8_t>(index));
  } else {
    put_string(out_, name, size);
  }
  return *this;
}

DocumentWriter& DocumentWriter::key(const char* name) { return key_text(name, std::strlen(name)); }

DocumentWriter& DocumentWriter::key(const std::string& name) {
  return key_text(name.data(), name.size());
}

DocumentWriter& DocumentWriter::null() {
  counted();
  out_.push_back(0xC0);
  return *this;
}

DocumentWriter& DocumentWriter::value(bool flag) {
  counted();
  out_.push_back(flag ? 0xC3 : 0xC2);
  return *this;
}

DocumentWriter& DocumentWriter::value(const char* text) {
  counted();
  put_string(out_, text, std::strlen(text));
  return *this;
}

DocumentWriter& DocumentWriter::value(const std::string& text) {
  counted();
  put_string(out_, text.data(), text.size());
  return *this;
}

DocumentWriter& DocumentWriter::signed_integer(std::int64_t number) {
  counted();
  put_signed(out_, number);
  return *this;
}

DocumentWriter& DocumentWriter::unsigned_integer(std::uint64_t number) {
  counted();
  put_unsigned(out_, number);
  return *this;
}

DocumentWriter& DocumentWriter::number_text(const std::string& lexeme) {
  counted();
  put_length(out_, lexeme.size(), 0, 0, 0xC4, 0xC5, 0xC6);
  out_.insert(out_.end(), lexeme.begin(), lexeme.end());
  return *this;
}

DocumentWriter& DocumentWriter::amount(Units units) { return value(format_amount(units)); }

DocumentWriter& DocumentWriter::value(const Bytes& document) {
  counted();
  out_.insert(out_.end(), document.begin(), document.end());
  return *this;
}

DocumentWriter& DocumentWriter::value(const Fields& map) { return value(map.bytes()); }

Bytes DocumentWriter::take() { return std::move(out_); }

Bytes Fields::bytes() const {
  DocumentWriter closed = writer_;
  closed.end();
  return closed.take();
}

Bytes array_document(const std::vector<Bytes>& items) {
  DocumentWriter out;
  out.begin_array();
  for (const Bytes& item : items) out.value(item);
  out.end();
  return out.take();
}

std::string json_text(const Bytes& document) {
  std::string out;
  if (!document.empty()) put_json(out, document.data());
  return out;
}

// ---- reading ----

namespace {

struct KeyText {
  const char* text;
  std::size_t size;
};

bool key_less(const KeyText& a, const KeyText& b) {
  return compare_text(a.text, a.size, b.text, b.size) < 0;
}

// A JSON number's text: -?(0|[1-9][0-9]*)(.[0-9]+)?([eE][+-]?[0-9]+)?
bool is_number_text(const std::uint8_t* p, std::size_t n) {
  std::size_t i = 0;
  auto digits = [&] {
    const std::size_t start = i;
    while (i < n && p[i] >= '0' && p[i] <= '9') ++i;
    return i - start;
  };
  if (i < n && p[i] == '-') ++i;
  if (i < n && p[i] == '0') {
    ++i;
  } else if (digits() == 0) {
    return false;
  }
  if (i < n && p[i] == '.') {
    ++i;
    if (digits() == 0) return false;
  }
  if (i < n && (p[i] == 'e' || p[i] == 'E')) {
    ++i;
    if (i < n && (p[i] == '+' || p[i] == '-')) ++i;
    if (digits() == 0) return false;
  }
  return i == n;
}

// Checks, without recursion or allocation proportional to claimed sizes, that `bytes` are
// exactly one value of the kinds a document holds, and records a token per value and map key.
Status index_document(const Bytes& bytes, std::vector<Document::Token>* tokens) {
  struct Frame {
    std::uint64_t remaining;  // values and keys still to come
    std::uint32_t token;
    bool map;
    std::size_t first_key;  // into `keys`
  };
  const std::uint8_t* payload = bytes.data();
  const std::size_t size = bytes.size();
  if (size >= 0xFFFFFFFFu) return Status(ErrorCode::kRecordCorrupt, "document is too large");
  std::vector<Frame> frames;
  std::vector<KeyText> keys;  // keys of the maps being read, to refuse a repeated one
  tokens->clear();
  // A record holds about one value per five bytes (a full audit log: 0.18), so this is room for
  // every token of a record without the vector growing and copying itself on the way: growth
  // was 40% of writing a record (its read-back check) and of reading one. Worst case, a document
  // of 1-byte values, it grows as before.
  tokens->reserve(size / 4 + 2);
  std::size_t pos = 0;
  bool root_done = false;
  auto fail = [](const char* what) { return Status(ErrorCode::kRecordCorrupt, what); };
  while (!root_done) {
    const bool expect_key = !frames.empty() && frames.back().map && frames.back().remaining % 2 == 0;
    if (pos >= size) return fail("ends inside a value");
    const std::size_t begin = pos;
    const std::uint8_t tag = payload[pos++];
    const std::size_t left = size - pos;
    std::uint64_t length = 0;  // bytes of scalar data, or element count of a container
    bool is_string = false;
    bool is_number = false;
    bool is_container = false;
    bool is_map = false;
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
    } else if (tag >= 0xCC && tag <= 0xD3) {
      length = std::uint64_t{1} << ((tag - 0xCC) % 4);
    } else if ((tag >= 0xD9 && tag <= 0xDB) || (tag >= 0xC4 && tag <= 0xC6)) {
      const std::size_t width = (tag == 0xD9 || tag == 0xC4) ? 1 : (tag == 0xDA || tag == 0xC5) ? 2 : 4;
      if (left < width) return fail("ends inside a string length");
      is_string = tag >= 0xD9;
      is_number = !is_string;
      length = read_big_endian(payload + pos, width);
      pos += width;
    } else if (tag >= 0xDC && tag <= 0xDF) {
      const std::size_t width = (tag == 0xDC || tag == 0xDE) ? 2 : 4;
      if (left < width) return fail("ends inside a container length");
      is_container = true;
      is_map = tag >= 0xDE;
      length = read_big_endian(payload + pos, width);
      pos += width;
    } else {
      return fail("holds a MessagePack type a document never contains");
    }
    if (expect_key) {
      if (tag < kKeyDictionarySize) {
        keys.push_back(KeyText{kKeyDictionary[tag], std::strlen(kKeyDictionary[tag])});
      } else if (is_string) {
        keys.push_back(KeyText{reinterpret_cast<const char*>(payload + pos), static_cast<std::size_t>(length)});
      } else {
        return fail("has a map key that is neither a string nor a dictionary key");
      }
    }
    const auto index = static_cast<std::uint32_t>(tokens->size());
    tokens->push_back(Document::Token{static_cast<std::uint32_t>(begin), index + 1});
    if (is_container) {
      const std::uint64_t elements = is_map ? length * 2 : length;
      if (elements > size - pos) return fail("claims more elements than it has bytes");
      if (elements > 0) {
        if (frames.size() >= kMaxDocumentDepth) return fail("nests too deeply");
        frames.push_back(Frame{elements, index, is_map, keys.size()});
        continue;
      }
    } else {
      if (length > size - pos) return fail("ends inside a value");
      if (is_string && !valid_utf8(payload + pos, static_cast<std::size_t>(length))) {
        return fail("holds a string that is not UTF-8");
      }
      if (is_number && !is_number_text(payload + pos, static_cast<std::size_t>(length))) {
        return fail("holds a number whose text is not a JSON number");
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
      const Frame done = frames.back();
      frames.pop_back();
      (*tokens)[done.token].after = static_cast<std::uint32_t>(tokens->size());
      if (done.map) {
        const auto first = keys.begin() + static_cast<std::ptrdiff_t>(done.first_key);
        heap_sort(first, keys.end(), key_less);
        for (auto it = first; it + 1 < keys.end(); ++it) {
          if (compare_text(it->text, it->size, (it + 1)->text, (it + 1)->size) == 0) {
            return Status(ErrorCode::kRecordCorrupt,
                          "repeats the key \"" + std::string(it->text, std::min<std::size_t>(it->size, 40)) + "\"");
          }
        }
        keys.erase(first, keys.end());
      }
    }
  }
  if (pos != size) return fail("has bytes after the document");
  tokens->push_back(Document::Token{static_cast<std::uint32_t>(size), 0});
  return Status::Ok();
}

}  // namespace

Result<Document> Document::from_bytes(Bytes bytes, ErrorCode code) {
  Document document;
  Status indexed = index_document(bytes, &document.tokens_);
  if (!indexed.ok()) return Status(code, indexed.message());
  document.bytes_ = std::move(bytes);
  return document;
}

// nlohmann's SAX parser feeding a DocumentWriter: no DOM is built. A number that is not an
// integer (or does not fit 64 bits) is kept as its text.
class JsonToDocument {
 public:
  using number_integer_t = std::int64_t;
  using number_unsigned_t = std::uint64_t;
  using number_float_t = double;
  using string_t = std::string;
  using binary_t = nlohmann::json::binary_t;

  bool null() {
    writer.null();
    return true;
  }
  bool boolean(bool v) {
    writer.value(v);
    return true;
  }
  bool number_integer(number_integer_t v) {
    writer.value(v);
    return true;
  }
  bool number_unsigned(number_unsigned_t v) {
    writer.value(v);
    return true;
  }
  bool number_float(number_float_t, const string_t& lexeme) {
    writer.number_text(lexeme);
    return true;
  }
  bool string(string_t& v) {
    writer.value(v);
    return true;
  }
  bool binary(binary_t&) { return false; }
  bool start_object(std::size_t) { return open(true); }
  bool key(string_t& k) {
    writer.key(k);
    return true;
  }
  bool end_object() { return close(); }
  bool start_array(std::size_t) { return open(false); }
  bool end_array() { return close(); }
  bool parse_error(std::size_t, const std::string&, const nlohmann::detail::exception&) { return false; }

  DocumentWriter writer;

 private:
  bool open(bool map) {
    if (++depth > kMaxDocumentDepth) return false;
    if (map) {
      writer.begin_map();
    } else {
      writer.begin_array();
    }
    return true;
  }
  bool close() {
    --depth;
    writer.end();
    return true;
  }
  std::size_t depth = 0;
};

Result<Document> Document::parse_json(const std::string& text, ErrorCode code) {
  JsonToDocument reader;
  if (!nlohmann::json::sax_parse(text, &reader)) {
    return Status(code, "not well-formed JSON (or nested deeper than 64 levels)");
  }
  Document document;
  Bytes bytes = reader.writer.take();
  Status indexed = index_document(bytes, &document.tokens_);
  if (!indexed.ok()) return Status(code, indexed.message());
  document.bytes_ = std::move(bytes);
  return document;
}

Node Document::root() const {
  if (tokens_.empty()) return Node();
  return Node(bytes_.data(), tokens_.data(), 0);
}

Node::Kind Node::kind() const {
  if (tokens_ == nullptr) return Kind::kAbsent;
  const std::uint8_t t = tag();
  if (t <= 0x7F || t >= 0xE0 || (t >= 0xCC && t <= 0xD3)) return Kind::kInteger;
  if ((t >= 0x80 && t <= 0x8F) || t == 0xDE || t == 0xDF) return Kind::kMap;
  if ((t >= 0x90 && t <= 0x9F) || t == 0xDC || t == 0xDD) return Kind::kArray;
  if ((t >= 0xA0 && t <= 0xBF) || (t >= 0xD9 && t <= 0xDB)) return Kind::kString;
  if (t >= 0xC4 && t <= 0xC6) return Kind::kNumberText;
  if (t == 0xC2 || t == 0xC3) return Kind::kBoolean;
  return Kind::kNull;
}

bool Node::boolean() const { return tag() == 0xC3; }

bool Node::as_int64(std::int64_t* out) const {
  const std::uint8_t* p = data_ + tokens_[index_].begin;
  const std::uint8_t t = p[0];
  if (t <= 0x7F) {
    *out = t;
  } else if (t >= 0xE0) {
    *out = static_cast<std::int8_t>(t);
  } else if (t <= 0xCF) {
    const std::uint64_t v = read_big_endian(p + 1, std::size_t{1} << (t - 0xCC));
    if (v > static_cast<std::uint64_t>(INT64_MAX)) return false;
    *out = static_cast<std::int64_t>(v);
  } else {
    const std::size_t width = std::size_t{1} << (t - 0xD0);
    std::uint64_t bits = read_big_endian(p + 1, width);
    if (width < 8 && (bits >> (8 * width - 1)) != 0) bits |= ~std::uint64_t{0} << (8 * width);
    *out = static_cast<std::int64_t>(bits);
  }
  return true;
}

std::string Node::text() const {
  const Kind k = kind();
  if (k != Kind::kString && k != Kind::kNumberText) return std::string();
  const auto found = string_at(data_ + tokens_[index_].begin);
  return std::string(found.first, found.second);
}

std::size_t Node::size() const {
  const Kind k = kind();
  if (k != Kind::kArray && k != Kind::kMap) return 0;
  const std::uint8_t t = tag();
  if (t < 0xDC) return t & 0x0F;
  return static_cast<std::size_t>(
      read_big_endian(data_ + tokens_[index_].begin + 1, (t == 0xDC || t == 0xDE) ? 2 : 4));
}

Node Node::find(const char* key) const {
  if (!is_map()) return Node();
  const std::size_t key_size = std::strlen(key);
  const int index = dictionary_index(key, key_size);
  for (std::uint32_t at = index_ + 1; at < tokens_[index_].after; at = tokens_[at + 1].after) {
    const std::uint8_t* p = data_ + tokens_[at].begin;
    const bool same = p[0] < 0x80 ? static_cast<int>(p[0]) == index : [&] {
      const auto name = string_at(p);
      return compare_text(name.first, name.second, key, key_size) == 0;
    }();
    if (same) return Node(data_, tokens_, at + 1);
  }
  return Node();
}

Bytes Node::bytes() const {
  if (tokens_ == nullptr) return Bytes();
  const std::uint8_t* begin = data_ + tokens_[index_].begin;
  const std::uint8_t* end = data_ + tokens_[tokens_[index_].after].begin;
  return Bytes(begin, end);
}

std::string Node::json() const {
  std::string out;
  if (tokens_ != nullptr) put_json(out, data_ + tokens_[index_].begin);
  return out;
}

NodeRange<Node> Node::elements() const {
  if (!is_array()) return NodeRange<Node>(*this, 0, 0);
  return NodeRange<Node>(*this, index_ + 1, tokens_[index_].after);
}

NodeRange<Member> Node::members() const {
  if (!is_map()) return NodeRange<Member>(*this, 0, 0);
  return NodeRange<Member>(*this, index_ + 1, tokens_[index_].after);
}

template <>
Node NodeRange<Node>::iterator::operator*() const {
  return Node(parent_.data_, parent_.tokens_, at_);
}

template <>
NodeRange<Node>::iterator& NodeRange<Node>::iterator::operator++() {
  at_ = parent_.tokens_[at_].after;
  return *this;
}

template <>
Member NodeRange<Member>::iterator::operator*() const {
  const auto name = key_at(parent_.data_ + parent_.tokens_[at_].begin);
  return Member{std::string(name.first, name.second), Node(parent_.data_, parent_.tokens_, at_ + 1)};
}

template <>
NodeRange<Member>::iterator& NodeRange<Member>::iterator::operator++() {
  at_ = parent_.tokens_[at_ + 1].after;
  return *this;
}

}  // namespace earnings
