#include "updater/maxmind_source.h"

#include <google/protobuf/struct.pb.h>
#include <google/protobuf/util/json_util.h>

#include <optional>
#include <utility>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_replace.h"
#include "geo/common/logging.h"
#include "geo/common/status_macros.h"
#include "updater/digest.h"

namespace geo::updater {
namespace {

constexpr size_t kMaxMetadataBytes = 1 << 20;

std::string StringField(const google::protobuf::Struct& object,
                        const std::string& name) {
  auto it = object.fields().find(name);
  if (it == object.fields().end() ||
      it->second.kind_case() != google::protobuf::Value::kStringValue) {
    return "";
  }
  return it->second.string_value();
}

std::optional<absl::Time> ParseHttpDate(absl::string_view value) {
  absl::Time time;
  std::string error;
  if (absl::ParseTime("%a, %d %b %Y %H:%M:%S GMT", value, absl::UTCTimeZone(),
                      &time, &error)) {
    return time;
  }
  return std::nullopt;
}

}  // namespace

absl::StatusOr<MaxMindEditionMetadata> ParseMaxMindMetadata(
    absl::string_view json, absl::string_view edition) {
  google::protobuf::Struct root;
  auto parsed = google::protobuf::util::JsonStringToMessage(
      google::protobuf::StringPiece(json.data(), json.size()), &root);
  if (!parsed.ok()) {
    return absl::DataLossError(absl::StrCat("metadata is not valid JSON: ",
                                            parsed.message().as_string()));
  }
  auto databases = root.fields().find("databases");
  if (databases == root.fields().end() ||
      databases->second.kind_case() != google::protobuf::Value::kListValue) {
    return absl::DataLossError("metadata has no \"databases\" list");
  }
  for (const google::protobuf::Value& value :
       databases->second.list_value().values()) {
    if (value.kind_case() != google::protobuf::Value::kStructValue) continue;
    const google::protobuf::Struct& entry = value.struct_value();
    if (StringField(entry, "edition_id") != edition) continue;
    MaxMindEditionMetadata metadata;
    metadata.edition = std::string(edition);
    metadata.md5 = StringField(entry, "md5");
    metadata.date = StringField(entry, "date");
    if (metadata.md5.size() != 32) {
      return absl::DataLossError(
          absl::StrCat("metadata for ", edition, " has no valid md5"));
    }
    // The date goes into the download URL: accept only what MaxMind sends
    // (YYYY-MM-DD), never characters that could change the query.
    absl::Time date;
    std::string error;
    if (metadata.date.size() != 10 ||
        !absl::ParseTime("%Y-%m-%d", metadata.date, absl::UTCTimeZone(), &date,
                         &error)) {
      return absl::DataLossError(absl::StrCat(
          "metadata for ", edition, " has no valid date (want YYYY-MM-DD)"));
    }
    return metadata;
  }
  return absl::NotFoundError(
      absl::StrCat("metadata does not list edition ", edition));
}

MaxMindSource::MaxMindSource(SourceContext context, std::string host,
                             std::string account_id, std::string license_key)
    : context_(context),
      host_(std::move(host)),
      account_id_(std::move(account_id)),
      license_key_(std::move(license_key)) {
  while (!host_.empty() && host_.back() == '/') host_.pop_back();
}

absl::StatusOr<MaxMindEditionMetadata> MaxMindSource::FetchMetadata(
    const std::string& edition) {
  HttpRequest request;
  request.url =
      absl::StrCat(host_, "/geoip/updates/metadata?edition_id=", edition);
  request.username = account_id_;
  request.password = license_key_;
  GEO_ASSIGN_OR_RETURN(std::string body,
                       FetchSmallBody(context_, request, kMaxMetadataBytes,
                                      absl::StrCat("metadata for ", edition)));
  absl::StatusOr<MaxMindEditionMetadata> metadata =
      ParseMaxMindMetadata(body, edition);
  if (!metadata.ok()) {
    return WithFailureReason(metadata.status(), "http");
  }
  return metadata;
}

absl::StatusOr<FetchResult> MaxMindSource::Fetch(const FetchRequest& request,
                                                 TempFile* payload) {
  GEO_ASSIGN_OR_RETURN(MaxMindEditionMetadata metadata,
                       FetchMetadata(request.edition));
  FetchResult result;
  result.expected_mmdb_md5 = metadata.md5;
  if (DigestsEqual(metadata.md5, request.local_md5)) {
    result.up_to_date = true;
    return result;
  }

  HttpRequest download;
  download.url = absl::StrCat(
      host_, "/geoip/databases/", request.edition,
      "/download?date=", absl::StrReplaceAll(metadata.date, {{"-", ""}}),
      "&suffix=tar.gz");
  download.username = account_id_;
  download.password = license_key_;
  GEO_ASSIGN_OR_RETURN(
      const HttpResponse final_response,
      DownloadPayload(context_, download, "download", request.edition,
                      /*not_modified_is_success=*/false, payload));
  result.format = PayloadFormat::kTarGz;
  result.bytes = final_response.body_bytes;
  result.modified_at = ParseHttpDate(final_response.last_modified);
  if (!result.modified_at.has_value()) {
    absl::Time date;
    std::string error;
    if (absl::ParseTime("%Y-%m-%d", metadata.date, absl::UTCTimeZone(), &date,
                        &error)) {
      result.modified_at = date;
    }
  }
  return result;
}

}  // namespace geo::updater
