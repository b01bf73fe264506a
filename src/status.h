// Errors as values. Every public function of the core reports failure through Status or
// Result<T> instead of throwing: the shipped wasm build runs without exception support, where a
// throw would abort the whole module. The string form of an ErrorCode is part of the public
// contract (JS `error.code`, HTTP bodies) and must never change once released.
#pragma once

#include <string>
#include <utility>

namespace earnings {

enum class ErrorCode {
  kOk = 0,
  kAmountMalformed,
  kAmountPrecision,
  kAmountOverflow,
  kAmountNegative,
  kAmountExceedsBudget,
  kRateInvalid,
  kUserIdInvalid,
  kTimeInvalid,
  kTimestampOrder,
  kStateInvalid,
  kRecordCorrupt,
  kRecordVersion,
  kRecordUserMismatch,
  kResponseInvalid,
  kSeqGap,
  kRequestInvalid,
  kConfigInvalid,
};

const char* to_string(ErrorCode code);

class Status {
 public:
  Status() = default;
  Status(ErrorCode code, std::string message) : code_(code), message_(std::move(message)) {}
  // Out of line, like the destructor: the core returns errors from hundreds of places, and each
  // would otherwise carry its own copy of the string code (a fifth of the client module).
  Status(ErrorCode code, const char* message);
  Status(const Status& other);
  Status(Status&& other) noexcept;
  Status& operator=(const Status& other);
  Status& operator=(Status&& other) noexcept;
  ~Status();

  static Status Ok() { return Status(); }

  bool ok() const { return code_ == ErrorCode::kOk; }
  ErrorCode code() const { return code_; }
  const char* code_name() const { return to_string(code_); }
  const std::string& message() const { return message_; }

 private:
  ErrorCode code_ = ErrorCode::kOk;
  std::string message_;
};

// A value or the Status explaining why there is none.
// REQUIRES: value() only when ok().
template <typename T>
class Result {
 public:
  Result(T value) : value_(std::move(value)) {}  // NOLINT: implicit by design, like expected<T>
  Result(Status status) : status_(std::move(status)) {}  // NOLINT
  Result(ErrorCode code, std::string message) : status_(code, std::move(message)) {}

  bool ok() const { return status_.ok(); }
  const Status& status() const { return status_; }
  const T& value() const& { return value_; }
  T& value() & { return value_; }
  T&& value() && { return std::move(value_); }

 private:
  T value_{};
  Status status_;
};

}  // namespace earnings
