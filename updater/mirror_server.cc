#include "updater/mirror_server.h"

#include <openssl/crypto.h>

#include <optional>
#include <utility>
#include <vector>

#include "absl/strings/ascii.h"
#include "absl/strings/escaping.h"
#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_replace.h"
#include "absl/strings/str_split.h"
#include "absl/strings/strip.h"
#include "absl/time/time.h"
#include "geo/common/enum_names.h"
#include "geo/common/logging.h"
#include "geo/http/grpc_gateway_mapping.h"

namespace geo::updater {
namespace {

constexpr char kHttpDateFormat[] = "%a, %d %b %Y %H:%M:%S GMT";
constexpr absl::string_view kMetadataPath = "/geoip/updates/metadata";
constexpr absl::string_view kDatabasesPrefix = "/geoip/databases/";
constexpr absl::string_view kChecksumSuffix = ".mmdb.sha256";
constexpr absl::string_view kDatabaseSuffix = ".mmdb";
constexpr size_t kMaxEditionName = 64;

constexpr std::array<int, 10> kCodes = {200, 304, 400, 401, 404,
                                        405, 500, 503, 431, 413};

// Each endpoint's metric label (kOther is "other").
constexpr EnumName<MirrorEndpoint> kEndpointNames[] = {
    {MirrorEndpoint::kMetadata, "metadata"},
    {MirrorEndpoint::kDownload, "download"},
    {MirrorEndpoint::kFile, "file"},
    {MirrorEndpoint::kChecksum, "checksum"},
    {MirrorEndpoint::kHealth, "healthz"},
    {MirrorEndpoint::kMetrics, "metrics"},
};

absl::string_view EndpointName(MirrorEndpoint endpoint) {
  return NameOf(kEndpointNames, endpoint, "other");
}

std::string HttpDate(absl::Time time) {
  return absl::FormatTime(kHttpDateFormat, time, absl::UTCTimeZone());
}

void SetText(int status, absl::string_view text, http::HttpResponse* response) {
  response->set_status(status);
  response->set_content_type("text/plain; charset=utf-8");
  response->set_body(text);
}

// RFC 9110 section 13.1.2 and 13.1.3: If-None-Match (weak comparison, "*" or
// a list) decides when present; otherwise If-Modified-Since.
bool NotModified(const http::HttpRequest& request, absl::string_view etag,
                 absl::Time modified_at) {
  if (std::optional<absl::string_view> tags = request.Header("If-None-Match")) {
    for (absl::string_view tag : absl::StrSplit(*tags, ',')) {
      tag = absl::StripAsciiWhitespace(tag);
      absl::ConsumePrefix(&tag, "W/");
      if (tag == "*" || tag == etag) return true;
    }
    return false;
  }
  if (std::optional<absl::string_view> since =
          request.Header("If-Modified-Since")) {
    absl::Time time;
    std::string error;
    if (absl::ParseTime(kHttpDateFormat, *since, absl::UTCTimeZone(), &time,
                        &error)) {
      return modified_at <= time;
    }
  }
  return false;
}

// Validators and conditional answer shared by downloads and files. True when
// the response is complete (304).
bool AnswerConditional(const http::HttpRequest& request,
                       const std::string& etag, absl::Time modified_at,
                       http::HttpResponse* response) {
  response->AddHeader("ETag", etag);
  response->AddHeader("Last-Modified", HttpDate(modified_at));
  response->AddHeader("Cache-Control", "no-cache");
  if (!NotModified(request, etag, modified_at)) return false;
  response->set_status(304);
  response->set_content_type("");
  response->set_body("");
  return true;
}

}  // namespace

bool IsServableEditionName(absl::string_view edition) {
  if (edition.empty() || edition.size() > kMaxEditionName) return false;
  for (char c : edition) {
    if (!absl::ascii_isalnum(c) && c != '-' && c != '_') return false;
  }
  return true;
}

const std::array<int, 10>& MirrorServerMetrics::Codes() { return kCodes; }

MirrorServerMetrics::MirrorServerMetrics(prometheus::Registry& registry) {
  auto& requests = prometheus::BuildCounter()
                       .Name("geo_updater_serve_requests_total")
                       .Help(
                           "Requests answered by the serve mode, by "
                           "endpoint and HTTP status")
                       .Register(registry);
  auto& bytes = prometheus::BuildCounter()
                    .Name("geo_updater_serve_bytes_total")
                    .Help("Response body bytes of the serve mode, by endpoint")
                    .Register(registry);
  auto& not_modified =
      prometheus::BuildCounter()
          .Name("geo_updater_serve_not_modified_total")
          .Help("Conditional requests answered 304 Not Modified, by endpoint")
          .Register(registry);
  for (int index = 0; index < kMirrorEndpointCount; ++index) {
    const std::string endpoint(
        EndpointName(static_cast<MirrorEndpoint>(index)));
    PerEndpoint& per = endpoints_[static_cast<size_t>(index)];
    for (size_t code = 0; code < kCodes.size(); ++code) {
      per.requests[code] = &requests.Add(
          {{"endpoint", endpoint}, {"code", std::to_string(kCodes[code])}});
    }
    per.requests[kCodes.size()] =
        &requests.Add({{"endpoint", endpoint}, {"code", "other"}});
    per.bytes = &bytes.Add({{"endpoint", endpoint}});
    per.not_modified = &not_modified.Add({{"endpoint", endpoint}});
  }
}

void MirrorServerMetrics::Record(MirrorEndpoint endpoint, int status,
                                 int64_t body_bytes) {
  PerEndpoint& per = endpoints_[static_cast<size_t>(endpoint)];
  size_t code = kCodes.size();
  for (size_t i = 0; i < kCodes.size(); ++i) {
    if (kCodes[i] == status) code = i;
  }
  per.requests[code]->Increment();
  per.bytes->Increment(static_cast<double>(body_bytes));
  if (status == 304) per.not_modified->Increment();
}

MirrorHandler::MirrorHandler(MirrorServerOptions options,
                             const InstalledDatabases* databases,
                             MirrorServerMetrics* metrics,
                             std::function<bool()> healthy,
                             std::function<std::string()> metrics_text)
    : options_(std::move(options)),
      databases_(databases),
      metrics_(metrics),
      healthy_(std::move(healthy)),
      metrics_text_(std::move(metrics_text)) {}

bool MirrorHandler::Authorized(const http::HttpRequest& request) const {
  if (options_.account_id.empty() && options_.license_key.empty()) return true;
  std::optional<absl::string_view> header = request.Header("Authorization");
  if (!header.has_value()) return false;
  absl::string_view value = absl::StripAsciiWhitespace(*header);
  if (value.size() < 6 ||
      !absl::EqualsIgnoreCase(value.substr(0, 6), "Basic ")) {
    return false;
  }
  // The token exactly, in the base64 alphabet: Base64Unescape would skip
  // whitespace inside it, and a credential has one spelling.
  const absl::string_view token = absl::StripAsciiWhitespace(value.substr(6));
  for (char c : token) {
    if (!absl::ascii_isalnum(c) && c != '+' && c != '/' && c != '=') {
      return false;
    }
  }
  std::string decoded;
  if (!absl::Base64Unescape(token, &decoded)) return false;
  const std::string expected =
      absl::StrCat(options_.account_id, ":", options_.license_key);
  // Constant time in the content, so the key cannot be guessed byte by byte.
  return decoded.size() == expected.size() &&
         CRYPTO_memcmp(decoded.data(), expected.data(), expected.size()) == 0;
}

void MirrorHandler::Handle(const http::HttpRequest& request,
                           http::HttpResponse* response) const {
  const MirrorEndpoint endpoint = Answer(request, response);
  const int64_t bytes = static_cast<int64_t>(response->BodyBytes().size());
  if (metrics_ != nullptr)
    metrics_->Record(endpoint, response->status(), bytes);
  const bool probe = endpoint == MirrorEndpoint::kHealth ||
                     endpoint == MirrorEndpoint::kMetrics;
  // The path only: the query carries nothing secret today, but the access
  // log should not depend on that, and no header is ever logged.
  Log(probe ? LogLevel::kDebug : LogLevel::kInfo, "Served",
      {{"method", request.method()},
       {"path", request.path()},
       {"endpoint", EndpointName(endpoint)},
       {"status", response->status()},
       {"bytes", bytes},
       {"peer", request.peer_address()}});
}

MirrorEndpoint MirrorHandler::Answer(const http::HttpRequest& request,
                                     http::HttpResponse* response) const {
  const absl::string_view path = request.path();
  MirrorEndpoint endpoint = MirrorEndpoint::kOther;
  absl::string_view edition;
  if (path == "/healthz") {
    endpoint = MirrorEndpoint::kHealth;
  } else if (path == "/metrics") {
    endpoint = MirrorEndpoint::kMetrics;
  } else if (path == kMetadataPath) {
    endpoint = MirrorEndpoint::kMetadata;
  } else if (absl::StartsWith(path, kDatabasesPrefix)) {
    absl::string_view rest = path.substr(kDatabasesPrefix.size());
    // Everything before "/download" is the edition, slashes included, so
    // that a name with a path in it is refused as a name (400).
    if (absl::ConsumeSuffix(&rest, "/download")) {
      endpoint = MirrorEndpoint::kDownload;
      edition = rest;
    }
  } else if (path == "/SHA256SUMS") {
    endpoint = MirrorEndpoint::kChecksum;
  } else if (absl::EndsWith(path, kChecksumSuffix)) {
    endpoint = MirrorEndpoint::kChecksum;
    edition = path.substr(1, path.size() - 1 - kChecksumSuffix.size());
  } else if (absl::EndsWith(path, kDatabaseSuffix) &&
             path.find('/', 1) == absl::string_view::npos) {
    endpoint = MirrorEndpoint::kFile;
    edition = path.substr(1, path.size() - 1 - kDatabaseSuffix.size());
  }

  if (endpoint == MirrorEndpoint::kOther) {
    SetText(404, "not found\n", response);
    return endpoint;
  }
  if (request.method() != "GET" && request.method() != "HEAD") {
    SetText(405, "method not allowed\n", response);
    response->AddHeader("Allow", "GET, HEAD");
    return endpoint;
  }
  if (endpoint == MirrorEndpoint::kHealth) {
    std::string missing;
    for (const std::string& name : databases_->editions()) {
      if (databases_->Find(name) == nullptr)
        absl::StrAppend(&missing, " ", name);
    }
    if (!missing.empty()) {
      SetText(503, absl::StrCat("nothing to serve yet for:", missing, "\n"),
              response);
    } else if (healthy_ && !healthy_()) {
      SetText(503, "stale: no successful update recently\n", response);
    } else {
      SetText(200, "ok\n", response);
    }
    return endpoint;
  }
  if (endpoint == MirrorEndpoint::kMetrics) {
    SetText(200, metrics_text_ ? metrics_text_() : "", response);
    response->set_content_type("text/plain; version=0.0.4; charset=utf-8");
    return endpoint;
  }
  if (!Authorized(request)) {
    SetText(401, "invalid account ID or license key\n", response);
    response->AddHeader("WWW-Authenticate", "Basic realm=\"geo-updater\"");
    return endpoint;
  }
  switch (endpoint) {
    case MirrorEndpoint::kMetadata:
      AnswerMetadata(request, response);
      break;
    case MirrorEndpoint::kDownload:
      AnswerDownload(request, edition, response);
      break;
    case MirrorEndpoint::kFile:
      AnswerFile(request, edition, /*checksum=*/false, response);
      break;
    case MirrorEndpoint::kChecksum:
      if (path == "/SHA256SUMS") {
        AnswerChecksums(response);
      } else {
        AnswerFile(request, edition, /*checksum=*/true, response);
      }
      break;
    default:
      break;
  }
  return endpoint;
}

void MirrorHandler::AnswerMetadata(const http::HttpRequest& request,
                                   http::HttpResponse* response) const {
  std::vector<std::string> requested;
  for (absl::string_view parameter :
       absl::StrSplit(request.query(), '&', absl::SkipEmpty())) {
    if (!absl::ConsumePrefix(&parameter, "edition_id=")) continue;
    std::string edition;
    if (!http::PercentDecode(parameter, /*plus_is_space=*/true, &edition) ||
        !IsServableEditionName(edition)) {
      SetText(400, "invalid edition_id\n", response);
      return;
    }
    requested.push_back(std::move(edition));
  }
  if (requested.empty()) {
    SetText(400, "edition_id is required\n", response);
    return;
  }
  std::string entries;
  for (const std::string& edition : requested) {
    std::shared_ptr<const InstalledDatabase> database =
        databases_->Find(edition);
    if (database == nullptr) continue;
    absl::StrAppend(&entries, entries.empty() ? "" : ",",
                    "{\"edition_id\":", JsonQuote(edition),
                    ",\"md5\":", JsonQuote(database->md5()),
                    ",\"date\":", JsonQuote(database->date()), "}");
  }
  if (entries.empty()) {
    response->SetJson(404,
                      "{\"code\":\"EDITION_NOT_FOUND\",\"error\":"
                      "\"no requested edition is served here\"}");
    return;
  }
  response->SetJson(200, absl::StrCat("{\"databases\":[", entries, "]}"));
}

std::shared_ptr<const InstalledDatabase> MirrorHandler::FindServed(
    absl::string_view edition, absl::string_view bad_request,
    http::HttpResponse* response) const {
  if (!IsServableEditionName(edition)) {
    SetText(400, "invalid edition ID\n", response);
    return nullptr;
  }
  if (!bad_request.empty()) {
    SetText(400, bad_request, response);
    return nullptr;
  }
  std::shared_ptr<const InstalledDatabase> database =
      databases_->Find(std::string(edition));
  if (database == nullptr) {
    SetText(404, "edition not served here\n", response);
  }
  return database;
}

void MirrorHandler::AnswerDownload(const http::HttpRequest& request,
                                   absl::string_view edition,
                                   http::HttpResponse* response) const {
  std::optional<std::string> suffix = request.QueryParameter("suffix");
  const bool tar_gz = !suffix.has_value() || *suffix == "tar.gz";
  std::shared_ptr<const InstalledDatabase> database = FindServed(
      edition, tar_gz ? "" : "only suffix=tar.gz is served\n", response);
  if (database == nullptr) return;
  // The archive is one representation per installed file: its own ETag.
  if (AnswerConditional(request, absl::StrCat("\"", database->md5(), "-tgz\""),
                        database->modified_at(), response)) {
    return;
  }
  response->set_status(200);
  response->set_content_type("application/gzip");
  response->AddHeader(
      "Content-Disposition",
      absl::StrCat("attachment; filename=", edition, "_",
                   absl::StrReplaceAll(database->date(), {{"-", ""}}),
                   ".tar.gz"));
  const absl::string_view archive = database->archive();
  response->SetSharedBody(std::move(database), archive);
}

void MirrorHandler::AnswerFile(const http::HttpRequest& request,
                               absl::string_view edition, bool checksum,
                               http::HttpResponse* response) const {
  std::shared_ptr<const InstalledDatabase> database =
      FindServed(edition, /*bad_request=*/"", response);
  if (database == nullptr) return;
  const std::string etag =
      absl::StrCat("\"", database->md5(), checksum ? "-sha256\"" : "\"");
  if (AnswerConditional(request, etag, database->modified_at(), response)) {
    return;
  }
  response->set_status(200);
  if (checksum) {
    response->set_content_type("text/plain; charset=utf-8");
    response->set_body(
        absl::StrCat(database->sha256(), "  ", edition, kDatabaseSuffix, "\n"));
    return;
  }
  response->set_content_type("application/octet-stream");
  // Shares the mapping instead of copying the file into each response.
  const absl::string_view contents = database->contents();
  response->SetSharedBody(std::move(database), contents);
}

void MirrorHandler::AnswerChecksums(http::HttpResponse* response) const {
  std::string body;
  for (const auto& database : databases_->All()) {
    absl::StrAppend(&body, database->sha256(), "  ", database->edition(),
                    kDatabaseSuffix, "\n");
  }
  SetText(200, body, response);
  response->AddHeader("Cache-Control", "no-cache");
}

absl::StatusOr<std::unique_ptr<http::HttpServer>> StartMirrorServer(
    const MirrorServerOptions& options,
    std::shared_ptr<const MirrorHandler> handler) {
  http::HttpServerOptions server;
  server.address = options.address;
  server.port = options.port;
  server.io_threads = options.io_threads;
  server.max_connections = options.max_connections;
  server.max_connections_per_peer = options.max_connections_per_peer;
  // Requests are GETs: no body, small headers.
  server.max_header_bytes = 8 * 1024;
  server.max_body_bytes = 0;
  // A database of a few hundred MB over a slow link takes a while.
  server.write_timeout = absl::Minutes(5);
  server.error_formatter = http::GatewayHttpErrorBody;
  return http::HttpServer::Start(
      server, [handler = std::move(handler)](const http::HttpRequest& request,
                                             http::HttpResponse* response) {
        handler->Handle(request, response);
      });
}

}  // namespace geo::updater
