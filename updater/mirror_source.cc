#include "updater/mirror_source.h"

#include <utility>

#include "absl/strings/ascii.h"
#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_replace.h"

namespace geo::updater {
namespace {

constexpr size_t kMaxChecksumFileBytes = 4096;
constexpr char kHttpDateFormat[] = "%a, %d %b %Y %H:%M:%S GMT";

bool IsHexDigest(absl::string_view text, size_t length) {
  if (text.size() != length) return false;
  for (char c : text) {
    if (!absl::ascii_isxdigit(c)) return false;
  }
  return true;
}

}  // namespace

std::string ExpandEdition(absl::string_view text, absl::string_view edition) {
  return absl::StrReplaceAll(text, {{"{edition}", edition}});
}

MirrorSource::MirrorSource(SourceContext context, MirrorOptions options)
    : context_(context), options_(std::move(options)) {}

absl::StatusOr<std::string> MirrorSource::FetchSha256(
    const std::string& edition) {
  HttpRequest request;
  request.url = ExpandEdition(options_.sha256_url_template, edition);
  absl::StatusOr<std::string> body =
      FetchSmallBody(context_, request, kMaxChecksumFileBytes,
                     absl::StrCat("sha256 of ", edition));
  if (!body.ok()) return body.status();
  absl::string_view text = absl::StripLeadingAsciiWhitespace(*body);
  absl::string_view digest = text.substr(0, text.find_first_of(" \t\r\n"));
  if (!IsHexDigest(digest, 64)) {
    return WithFailureReason(absl::DataLossError(absl::StrCat(
                                 "no SHA-256 in ", RedactUrl(request.url))),
                             "checksum");
  }
  return absl::AsciiStrToLower(digest);
}

absl::StatusOr<FetchResult> MirrorSource::Fetch(const FetchRequest& request,
                                                TempFile* payload) {
  HttpRequest get;
  get.url = ExpandEdition(options_.url_template, request.edition);
  const bool have_local = !request.local_md5.empty();
  if (have_local && !request.local_etag.empty()) {
    get.headers.emplace_back("If-None-Match", request.local_etag);
  }
  if (have_local && request.local_modified_at.has_value()) {
    get.headers.emplace_back(
        "If-Modified-Since",
        absl::FormatTime(kHttpDateFormat, *request.local_modified_at,
                         absl::UTCTimeZone()));
  }
  HttpResponse final_response;
  absl::Status status = RetryWithBackoff(
      *context_.backoff, context_.clock, context_.cancel,
      absl::StrCat("mirror download ", request.edition), [&]() -> absl::Status {
        absl::Status reset = payload->Truncate();
        if (!reset.ok()) return reset;
        absl::StatusOr<HttpResponse> response =
            context_.http->Get(get, [payload](absl::string_view chunk) {
              return payload->Write(chunk);
            });
        if (!response.ok()) return response.status();
        final_response = *response;
        if (response->status == 304) return absl::OkStatus();
        return StatusForHttpResponse(
            *response, absl::StrCat("mirror download of ", request.edition),
            context_.clock->Now(), context_.max_retry_after);
      });
  if (!status.ok()) return status;

  FetchResult result;
  result.etag = final_response.etag;
  if (final_response.status == 304) {
    result.up_to_date = true;
    return result;
  }
  const std::string path = RedactUrl(get.url);
  result.format =
      absl::EndsWith(path, ".tar.gz") || absl::EndsWith(path, ".tgz")
          ? PayloadFormat::kTarGz
          : PayloadFormat::kMmdb;
  result.bytes = final_response.body_bytes;
  absl::Time modified;
  std::string error;
  if (absl::ParseTime(kHttpDateFormat, final_response.last_modified,
                      absl::UTCTimeZone(), &modified, &error)) {
    result.modified_at = modified;
  }
  if (!options_.sha256.empty()) {
    result.expected_payload_sha256 = absl::AsciiStrToLower(options_.sha256);
  } else if (!options_.sha256_url_template.empty()) {
    absl::StatusOr<std::string> digest = FetchSha256(request.edition);
    if (!digest.ok()) return digest.status();
    result.expected_payload_sha256 = *digest;
  }
  return result;
}

}  // namespace geo::updater
