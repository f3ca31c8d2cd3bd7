#include "updater/source.h"

#include <optional>

#include "absl/strings/ascii.h"
#include "absl/strings/cord.h"
#include "absl/strings/str_cat.h"
#include "geo/common/enum_names.h"
#include "updater/retry.h"

namespace geo::updater {
namespace {

constexpr absl::string_view kReasonPayload =
    "type.geo.dev/updater.FailureReason";

std::string BodyHint(const HttpResponse& response) {
  std::string body(
      absl::StripAsciiWhitespace(response.error_body.substr(0, 200)));
  for (char& c : body) {
    if (static_cast<unsigned char>(c) < 0x20) c = ' ';
  }
  return body.empty() ? "" : absl::StrCat(": ", body);
}

// The reason of a failure that did not name one, by its code.
constexpr EnumName<absl::StatusCode> kReasonByCode[] = {
    {absl::StatusCode::kUnavailable, "network"},
    {absl::StatusCode::kDeadlineExceeded, "timeout"},
    {absl::StatusCode::kOutOfRange, "too_large"},
    {absl::StatusCode::kResourceExhausted, "disk"},
    {absl::StatusCode::kPermissionDenied, "disk"},
    {absl::StatusCode::kAborted, "lock"},
    {absl::StatusCode::kCancelled, "cancelled"},
    {absl::StatusCode::kInvalidArgument, "config"},
};

}  // namespace

absl::Status WithFailureReason(absl::Status status, absl::string_view reason) {
  status.SetPayload(kReasonPayload, absl::Cord(reason));
  return status;
}

std::string FailureReasonOf(const absl::Status& status) {
  // GetPayload returns absl::optional: this Abseil does not alias it to
  // std::optional.
  if (auto reason = status.GetPayload(kReasonPayload)) {
    return std::string(*reason);
  }
  if (status.ok()) return "";
  return std::string(NameOf(kReasonByCode, status.code(), "other"));
}

absl::Status StatusForHttpResponse(const HttpResponse& response,
                                   absl::string_view what, absl::Time now,
                                   absl::Duration max_retry_after) {
  const int code = response.status;
  if (code >= 200 && code < 300) return absl::OkStatus();
  const std::string prefix = absl::StrCat(what, ": HTTP ", code);
  // A failure with `status_code`: the prefix, `explanation` and the start of
  // the body, tagged with `reason`.
  const auto failure = [&](absl::StatusCode status_code,
                           absl::string_view explanation,
                           absl::string_view reason) {
    return WithFailureReason(
        absl::Status(status_code,
                     absl::StrCat(prefix, explanation, BodyHint(response))),
        reason);
  };
  if (code == 401 || code == 403) {
    return failure(
        absl::StatusCode::kUnauthenticated,
        ": the server rejected the credentials; check the account ID and "
        "license key (MAXMIND_ACCOUNT_ID, MAXMIND_LICENSE_KEY)",
        "auth");
  }
  if (code == 404) {
    return failure(
        absl::StatusCode::kNotFound,
        ": not found (unknown edition, or not available to this account)",
        "not_found");
  }
  if (code == 429) {
    std::optional<absl::Duration> delay =
        ParseRetryAfter(response.retry_after, now);
    if (delay.has_value() && *delay <= max_retry_after) {
      return WithFailureReason(
          WithRetryAfter(absl::ResourceExhaustedError(absl::StrCat(
                             prefix, ": rate limited, retry after ",
                             absl::FormatDuration(*delay))),
                         *delay),
          "rate_limited");
    }
    return failure(absl::StatusCode::kResourceExhausted,
                   absl::StrCat(": download limit reached",
                                delay.has_value()
                                    ? absl::StrCat("; the server asks to wait ",
                                                   absl::FormatDuration(*delay))
                                    : std::string(),
                                "; not retrying into the limit"),
                   "rate_limited");
  }
  if (code == 408 || code >= 500) {
    return failure(absl::StatusCode::kUnavailable, "", "http");
  }
  return failure(absl::StatusCode::kFailedPrecondition, "", "http");
}

absl::StatusOr<std::string> FetchSmallBody(const SourceContext& context,
                                           const HttpRequest& request,
                                           size_t max_bytes,
                                           absl::string_view what) {
  std::string body;
  absl::Status status = RetryWithBackoff(
      *context.backoff, context.clock, context.cancel, std::string(what),
      [&]() -> absl::Status {
        body.clear();
        absl::StatusOr<HttpResponse> response = context.http->Get(
            request, [&](absl::string_view chunk) -> absl::Status {
              if (body.size() + chunk.size() > max_bytes) {
                return absl::OutOfRangeError(absl::StrCat(
                    what, ": response larger than ", max_bytes, " bytes"));
              }
              body.append(chunk.data(), chunk.size());
              return absl::OkStatus();
            });
        if (!response.ok()) return response.status();
        return StatusForHttpResponse(*response, what, context.clock->Now(),
                                     context.max_retry_after);
      });
  if (!status.ok()) return status;
  return body;
}

absl::StatusOr<HttpResponse> DownloadPayload(const SourceContext& context,
                                             const HttpRequest& request,
                                             absl::string_view kind,
                                             absl::string_view edition,
                                             bool not_modified_is_success,
                                             TempFile* payload) {
  HttpResponse final_response;
  absl::Status status = RetryWithBackoff(
      *context.backoff, context.clock, context.cancel,
      absl::StrCat(kind, " ", edition), [&]() -> absl::Status {
        absl::Status reset = payload->Truncate();
        if (!reset.ok()) return reset;
        absl::StatusOr<HttpResponse> response =
            context.http->Get(request, [payload](absl::string_view chunk) {
              return payload->Write(chunk);
            });
        if (!response.ok()) return response.status();
        final_response = *response;
        if (not_modified_is_success && response->status == 304) {
          return absl::OkStatus();
        }
        return StatusForHttpResponse(
            *response, absl::StrCat(kind, " of ", edition),
            context.clock->Now(), context.max_retry_after);
      });
  if (!status.ok()) return status;
  return final_response;
}

}  // namespace geo::updater
