#include "updater/mirror_source.h"

#include <utility>
#include <vector>

#include "absl/strings/ascii.h"
#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "absl/strings/str_replace.h"
#include "absl/strings/str_split.h"
#include "absl/strings/strip.h"
#include "geo/common/status_macros.h"

namespace geo::updater {
namespace {

// Room for a SHA256SUMS of several hundred files.
constexpr size_t kMaxChecksumFileBytes = 64 * 1024;
constexpr char kHttpDateFormat[] = "%a, %d %b %Y %H:%M:%S GMT";

bool IsHexDigest(absl::string_view text, size_t length) {
  if (text.size() != length) return false;
  for (char c : text) {
    if (!absl::ascii_isxdigit(c)) return false;
  }
  return true;
}

// The last path segment of `url`, without query or fragment.
absl::string_view FileNameOfUrl(absl::string_view url) {
  url = url.substr(0, url.find_first_of("?#"));
  const size_t slash = url.rfind('/');
  return slash == absl::string_view::npos ? url : url.substr(slash + 1);
}

// The last component of a path as a checksum file names it ("./a/b.mmdb").
absl::string_view BaseName(absl::string_view path) {
  const size_t slash = path.rfind('/');
  return slash == absl::string_view::npos ? path : path.substr(slash + 1);
}

// GNU sha256sum escapes a name holding '\\' or a newline and marks the line
// with a leading '\\'.
std::string UnescapeName(absl::string_view name) {
  std::string out;
  for (size_t i = 0; i < name.size(); ++i) {
    if (name[i] == '\\' && i + 1 < name.size()) {
      ++i;
      out.push_back(name[i] == 'n' ? '\n' : name[i]);
    } else {
      out.push_back(name[i]);
    }
  }
  return out;
}

}  // namespace

absl::StatusOr<std::string> FindSha256ForFile(absl::string_view checksums,
                                              absl::string_view file_name) {
  std::vector<absl::string_view> lines;
  for (absl::string_view line : absl::StrSplit(checksums, '\n')) {
    line = absl::StripAsciiWhitespace(line);
    if (line.empty() || absl::StartsWith(line, "#")) continue;
    lines.push_back(line);
  }
  std::vector<std::string> names;
  for (absl::string_view line : lines) {
    absl::string_view digest;
    std::string name;
    if (absl::StartsWith(line, "SHA256 (")) {
      // BSD style (`sha256sum --tag`): SHA256 (NAME) = HASH
      const size_t close = line.rfind(") = ");
      if (close == absl::string_view::npos) continue;
      name = std::string(line.substr(8, close - 8));
      digest = line.substr(close + 4);
    } else {
      const bool escaped = absl::ConsumePrefix(&line, "\\");
      const size_t space = line.find_first_of(" \t");
      digest = line.substr(0, space);
      if (space == absl::string_view::npos) {
        // A bare hash: only meaningful as the whole file.
        if (lines.size() == 1 && IsHexDigest(digest, 64)) {
          return absl::AsciiStrToLower(digest);
        }
        continue;
      }
      absl::string_view rest = line.substr(space + 1);
      // "HASH  NAME" (text mode) or "HASH *NAME" (binary mode).
      if (!rest.empty() && (rest[0] == ' ' || rest[0] == '*')) {
        rest.remove_prefix(1);
      }
      name = escaped ? UnescapeName(rest) : std::string(rest);
    }
    if (!IsHexDigest(digest, 64)) continue;
    if (name == file_name || BaseName(name) == file_name) {
      return absl::AsciiStrToLower(digest);
    }
    if (names.size() < 5) names.push_back(std::move(name));
  }
  if (names.empty()) {
    return absl::NotFoundError("no SHA-256 in the checksum file");
  }
  return absl::NotFoundError(absl::StrCat(
      "the checksum file has no line for ", file_name, " (it names ",
      absl::StrJoin(names, ", "), lines.size() > 5 ? ", ..." : "", ")"));
}

std::string ExpandEdition(absl::string_view text, absl::string_view edition) {
  return absl::StrReplaceAll(text, {{"{edition}", edition}});
}

MirrorSource::MirrorSource(SourceContext context, MirrorOptions options)
    : context_(context), options_(std::move(options)) {}

absl::StatusOr<std::string> MirrorSource::FetchSha256(
    const std::string& edition, absl::string_view file_name) {
  HttpRequest request;
  request.url = ExpandEdition(options_.sha256_url_template, edition);
  GEO_ASSIGN_OR_RETURN(std::string body,
                       FetchSmallBody(context_, request, kMaxChecksumFileBytes,
                                      absl::StrCat("sha256 of ", edition)));
  absl::StatusOr<std::string> digest = FindSha256ForFile(body, file_name);
  if (!digest.ok()) {
    return WithFailureReason(
        absl::DataLossError(absl::StrCat(RedactUrl(request.url), ": ",
                                         digest.status().message())),
        "checksum");
  }
  return *digest;
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
  GEO_ASSIGN_OR_RETURN(
      const HttpResponse final_response,
      DownloadPayload(context_, get, "mirror download", request.edition,
                      /*not_modified_is_success=*/true, payload));

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
    GEO_ASSIGN_OR_RETURN(result.expected_payload_sha256,
                         FetchSha256(request.edition, FileNameOfUrl(path)));
  }
  return result;
}

}  // namespace geo::updater
