// Loop mode's status endpoints on the project's HTTP server (//geo/http):
// GET /healthz (200 while the last successful pass is recent enough, else
// 503) and GET /metrics (Prometheus text).
#ifndef UPDATER_STATUS_SERVER_H_
#define UPDATER_STATUS_SERVER_H_

#include <cstdint>
#include <functional>
#include <memory>
#include <string>

#include "absl/status/statusor.h"
#include "geo/http/http_message.h"
#include "geo/http/http_server.h"

namespace geo::updater {

// Answers one request: /healthz from `healthy`, /metrics from `metrics`,
// 404 otherwise, 405 for methods other than GET and HEAD.
void RouteStatusRequest(const http::HttpRequest& request,
                        const std::function<bool()>& healthy,
                        const std::function<std::string()>& metrics,
                        http::HttpResponse* response);

// Starts serving the two endpoints on `address`:`port` (0: ephemeral; read
// it back with port()), over TLS when `tls.certificates` is set. The
// functions are called on the server's io thread.
absl::StatusOr<std::unique_ptr<http::HttpServer>> StartStatusServer(
    const std::string& address, uint16_t port, std::function<bool()> healthy,
    std::function<std::string()> metrics, const http::HttpTlsOptions& tls = {});

}  // namespace geo::updater

#endif  // UPDATER_STATUS_SERVER_H_
