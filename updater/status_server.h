// Loop mode's status endpoints: GET /healthz (200 while the last successful
// pass is recent enough, else 503) and GET /metrics (Prometheus text).
//
// A deliberately minimal HTTP/1.1 server on Boost.Beast: one io thread, one
// request per connection. The project's full server (//geo/http) had not
// landed when the updater was written; these two endpoints need none of its
// routing or limits.
#ifndef UPDATER_STATUS_SERVER_H_
#define UPDATER_STATUS_SERVER_H_

#include <cstdint>
#include <functional>
#include <memory>
#include <string>

#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"

namespace geo::updater {

struct StatusReply {
  int status = 200;
  std::string content_type = "text/plain; charset=utf-8";
  std::string body;
};

// Answers a request for `target` (path and query). Called on the io thread.
using StatusHandler = std::function<StatusReply(absl::string_view target)>;

// The updater's routes: /healthz from `healthy`, /metrics from `metrics`.
StatusReply RouteStatusRequest(absl::string_view target,
                               const std::function<bool()>& healthy,
                               const std::function<std::string()>& metrics);

// Thread-safe.
class StatusServer {
 public:
  // Binds `address`:`port` (port 0: ephemeral) and starts serving.
  static absl::StatusOr<std::unique_ptr<StatusServer>> Start(
      const std::string& address, uint16_t port, StatusHandler handler);
  // Stops serving and joins the io thread.
  ~StatusServer();

  uint16_t port() const;

  class Impl;

 private:
  explicit StatusServer(std::unique_ptr<Impl> impl);
  std::unique_ptr<Impl> impl_;
};

}  // namespace geo::updater

#endif  // UPDATER_STATUS_SERVER_H_
