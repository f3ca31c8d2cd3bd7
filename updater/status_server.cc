#include "updater/status_server.h"

#include <utility>

#include "geo/http/grpc_gateway_mapping.h"

namespace geo::updater {

void RouteStatusRequest(const http::HttpRequest& request,
                        const std::function<bool()>& healthy,
                        const std::function<std::string()>& metrics,
                        http::HttpResponse* response) {
  response->set_content_type("text/plain; charset=utf-8");
  if (request.method() != "GET" && request.method() != "HEAD") {
    response->set_status(405);
    response->AddHeader("Allow", "GET, HEAD");
    response->set_body("method not allowed\n");
    return;
  }
  if (request.path() == "/healthz") {
    bool ok = healthy();
    response->set_status(ok ? 200 : 503);
    response->set_body(ok ? "ok\n" : "stale: no successful update recently\n");
  } else if (request.path() == "/metrics") {
    response->set_status(200);
    response->set_content_type("text/plain; version=0.0.4; charset=utf-8");
    response->set_body(metrics());
  } else {
    response->set_status(404);
    response->set_body("not found\n");
  }
}

absl::StatusOr<std::unique_ptr<http::HttpServer>> StartStatusServer(
    const std::string& address, uint16_t port, std::function<bool()> healthy,
    std::function<std::string()> metrics, const http::HttpTlsOptions& tls) {
  http::HttpServerOptions options;
  options.address = address;
  options.port = port;
  options.io_threads = 1;
  options.max_connections = 64;
  options.tls = tls;
  options.error_formatter = http::GatewayHttpErrorBody;
  return http::HttpServer::Start(
      options,
      [healthy = std::move(healthy), metrics = std::move(metrics)](
          const http::HttpRequest& request, http::HttpResponse* response) {
        RouteStatusRequest(request, healthy, metrics, response);
      });
}

}  // namespace geo::updater
