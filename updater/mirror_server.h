// The updater's serve mode: an HTTP server (the project's //geo/http server,
// with its header, body, timeout and connection caps) in front of the
// databases this updater installed and verified (InstalledDatabases), so one
// download from MaxMind feeds a whole cluster. It speaks
//
//   MaxMind's update protocol, for any MaxMind client whose Host points here
//   (geoipupdate, geo's own updater, ingress-nginx's MaxMind mirror setting):
//     GET /geoip/updates/metadata?edition_id=E[&edition_id=F]
//         -> {"databases":[{"edition_id":E,"md5":..,"date":"YYYY-MM-DD"}]}
//     GET /geoip/databases/E/download?date=YYYYMMDD&suffix=tar.gz
//         -> E_YYYYMMDD/E.mmdb in a tar.gz, as MaxMind returns it
//   plain files, for the updater's mirror mode and anything that can GET:
//     GET /E.mmdb, /E.mmdb.sha256 ("HASH  E.mmdb"), /SHA256SUMS (every file)
//   and GET /healthz, /metrics.
//
// Downloads and files answer conditional requests (If-None-Match first, else
// If-Modified-Since) with 304. With credentials configured, every database
// endpoint needs HTTP basic auth with exactly that account ID and key (401
// otherwise), so the mirror is not an open proxy of a paid database. Only
// GET and HEAD are served; nothing is ever written.
#ifndef UPDATER_MIRROR_SERVER_H_
#define UPDATER_MIRROR_SERVER_H_

#include <array>
#include <cstdint>
#include <functional>
#include <memory>
#include <string>

#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "geo/http/http_message.h"
#include "geo/http/http_server.h"
#include "prometheus/counter.h"
#include "prometheus/registry.h"
#include "updater/installed_databases.h"

namespace geo::updater {

struct MirrorServerOptions {
  std::string address = "0.0.0.0";
  uint16_t port = 8080;
  // Both empty: no check (for a mirror reachable only by the cluster's own
  // pods, under a NetworkPolicy). Otherwise clients must send exactly these.
  std::string account_id;
  std::string license_key;  // Secret: never logged.
  // Downloads share one copy of each database (its mapping or tar.gz), so a
  // connection costs a socket and buffers, not a database. Beyond the cap
  // clients get 503, which every MaxMind client retries.
  int max_connections = 8;
  int max_connections_per_peer = 2;
  int io_threads = 2;
};

// Which endpoint a request addressed; the label of the serve metrics.
enum class MirrorEndpoint {
  kMetadata,
  kDownload,
  kFile,
  kChecksum,
  kHealth,
  kMetrics,
  kOther,
};
inline constexpr int kMirrorEndpointCount = 7;

// Counters of the serve mode, children created up front:
//   geo_updater_serve_requests_total{endpoint,code}
//   geo_updater_serve_bytes_total{endpoint}
//   geo_updater_serve_not_modified_total{endpoint}
// Thread-safe.
class MirrorServerMetrics {
 public:
  explicit MirrorServerMetrics(prometheus::Registry& registry);
  void Record(MirrorEndpoint endpoint, int status, int64_t body_bytes);

  // The status codes the serve mode answers with; others count as "other".
  static const std::array<int, 10>& Codes();

 private:
  struct PerEndpoint {
    std::array<prometheus::Counter*, 11> requests{};  // Codes() + other.
    prometheus::Counter* bytes = nullptr;
    prometheus::Counter* not_modified = nullptr;
  };
  std::array<PerEndpoint, kMirrorEndpointCount> endpoints_;
};

// Answers requests over `databases`. Thread-safe (Handle is called from the
// server's io threads).
class MirrorHandler {
 public:
  // `healthy` (optional) is ANDed into /healthz, which also needs every
  // configured edition to be served; `metrics_text` renders /metrics.
  MirrorHandler(MirrorServerOptions options,
                const InstalledDatabases* databases,
                MirrorServerMetrics* metrics, std::function<bool()> healthy,
                std::function<std::string()> metrics_text);

  // Routes one request and fills `response`; records metrics and writes the
  // access log line (never a header value, so never a credential).
  void Handle(const http::HttpRequest& request,
              http::HttpResponse* response) const;

  // Routing and answering without metrics or log; returns the endpoint.
  MirrorEndpoint Answer(const http::HttpRequest& request,
                        http::HttpResponse* response) const;

 private:
  bool Authorized(const http::HttpRequest& request) const;
  void AnswerMetadata(const http::HttpRequest& request,
                      http::HttpResponse* response) const;
  void AnswerDownload(const http::HttpRequest& request,
                      absl::string_view edition,
                      http::HttpResponse* response) const;
  void AnswerFile(const http::HttpRequest& request, absl::string_view edition,
                  bool checksum, http::HttpResponse* response) const;
  // The installed database `edition` names, or null with `response` set to
  // the refusal: 400 for an invalid name, then 400 with `bad_request` when
  // it is not empty, then 404 for an edition not served here.
  std::shared_ptr<const InstalledDatabase> FindServed(
      absl::string_view edition, absl::string_view bad_request,
      http::HttpResponse* response) const;
  void AnswerChecksums(http::HttpResponse* response) const;

  const MirrorServerOptions options_;
  const InstalledDatabases* const databases_;
  MirrorServerMetrics* const metrics_;
  const std::function<bool()> healthy_;
  const std::function<std::string()> metrics_text_;
};

// Starts serving `handler` with the options' address, port and caps.
absl::StatusOr<std::unique_ptr<http::HttpServer>> StartMirrorServer(
    const MirrorServerOptions& options,
    std::shared_ptr<const MirrorHandler> handler);

// True for an edition ID the serve mode will look up: 1 to 64 characters of
// [A-Za-z0-9_-] (so never a path).
bool IsServableEditionName(absl::string_view edition);

}  // namespace geo::updater

#endif  // UPDATER_MIRROR_SERVER_H_
