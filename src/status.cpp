#include "status.h"

namespace earnings {

Status::Status(ErrorCode code, const char* message) : code_(code), message_(message) {}
Status::Status(const Status& other) = default;
Status::Status(Status&& other) noexcept = default;
Status& Status::operator=(const Status& other) = default;
Status& Status::operator=(Status&& other) noexcept = default;
Status::~Status() = default;

const char* to_string(ErrorCode code) {
  switch (code) {
    case ErrorCode::kOk: return "OK";
    case ErrorCode::kAmountMalformed: return "AMOUNT_MALFORMED";
    case ErrorCode::kAmountPrecision: return "AMOUNT_PRECISION";
    case ErrorCode::kAmountOverflow: return "AMOUNT_OVERFLOW";
    case ErrorCode::kAmountNegative: return "AMOUNT_NEGATIVE";
    case ErrorCode::kAmountExceedsBudget: return "AMOUNT_EXCEEDS_BUDGET";
    case ErrorCode::kRateInvalid: return "RATE_INVALID";
    case ErrorCode::kUserIdInvalid: return "USER_ID_INVALID";
    case ErrorCode::kTimeInvalid: return "TIME_INVALID";
    case ErrorCode::kTimestampOrder: return "TIMESTAMP_ORDER";
    case ErrorCode::kStateInvalid: return "STATE_INVALID";
    case ErrorCode::kRecordCorrupt: return "RECORD_CORRUPT";
    case ErrorCode::kRecordVersion: return "RECORD_VERSION";
    case ErrorCode::kRecordUserMismatch: return "RECORD_USER_MISMATCH";
    case ErrorCode::kResponseInvalid: return "RESPONSE_INVALID";
    case ErrorCode::kSeqGap: return "SEQ_GAP";
    case ErrorCode::kRequestInvalid: return "REQUEST_INVALID";
    case ErrorCode::kConfigInvalid: return "CONFIG_INVALID";
  }
  return "UNKNOWN";
}

}  // namespace earnings
