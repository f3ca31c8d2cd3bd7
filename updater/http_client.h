// A small HTTP(S) GET client over libcurl for downloading databases.
//
// TLS peer and host verification are always on (only the CA bundle can be
// chosen). Only http and https are allowed, also for redirects, and curl never
// resends credentials to another host after a redirect (MaxMind redirects
// downloads to presigned storage URLs). Error messages name the URL without its
// query string and never contain the password.
#ifndef UPDATER_HTTP_CLIENT_H_
#define UPDATER_HTTP_CLIENT_H_

#include <cstdint>
#include <functional>
#include <string>
#include <utility>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "absl/synchronization/notification.h"
#include "absl/time/time.h"

namespace geo::updater {

struct HttpClientOptions {
  absl::Duration connect_timeout = absl::Seconds(10);
  // Whole request, body included.
  absl::Duration total_timeout = absl::Minutes(10);
  // Abort when fewer than `low_speed_bytes_per_second` arrive for this long.
  absl::Duration low_speed_time = absl::Seconds(60);
  int64_t low_speed_bytes_per_second = 1024;
  // Larger bodies are refused (from Content-Length when sent, else as they
  // arrive).
  int64_t max_body_bytes = int64_t{2} << 30;
  // PEM bundle of trusted CAs; empty means the system default.
  std::string ca_bundle;
  std::string user_agent = "geo-updater/1";
  // Proxy for every request, as geoipupdate's `Proxy`: `host[:port]` (port
  // 1080 when absent) or a URL (http://, https://, socks5://...). Empty:
  // libcurl's standard environment applies (https_proxy / HTTPS_PROXY,
  // http_proxy, all_proxy). NO_PROXY / no_proxy is honoured either way.
  std::string proxy;
  // `user:password` for the proxy (geoipupdate's `ProxyUserPassword`).
  // Secret: never logged, never in an error.
  std::string proxy_user_password;
};

struct HttpRequest {
  std::string url;
  // HTTP basic auth; sent only to the host of `url`.
  std::string username;
  std::string password;  // Secret: never logged, never in an error.
  std::vector<std::pair<std::string, std::string>> headers;
};

struct HttpResponse {
  int status = 0;
  // Response headers of interest (of the final response after redirects).
  std::string etag;
  std::string last_modified;
  std::string retry_after;
  int64_t body_bytes = 0;
  // The start of a non-2xx body, for error messages.
  std::string error_body;
};

// Receives a 2xx body chunk by chunk; a non-OK status aborts the transfer and
// is returned by Get().
using BodySink = std::function<absl::Status(absl::string_view chunk)>;

// Thread-compatible: one request at a time per client (each Get() uses its own
// curl handle, so separate clients may run in parallel).
class HttpClient {
 public:
  // `cancel`, when notified, aborts a transfer in progress (CANCELLED).
  HttpClient(HttpClientOptions options, absl::Notification* cancel);

  // Performs a GET. Returns the response for any HTTP status (the caller maps
  // statuses to errors); transport failures are UNAVAILABLE, timeouts
  // DEADLINE_EXCEEDED, an oversized body OUT_OF_RANGE, cancellation CANCELLED,
  // and a sink's failure is returned as is.
  absl::StatusOr<HttpResponse> Get(const HttpRequest& request,
                                   const BodySink& sink);

  const HttpClientOptions& options() const { return options_; }

 private:
  HttpClientOptions options_;
  absl::Notification* cancel_;
};

// geoipupdate's Proxy value as a URL: `http://` when no scheme is given and
// `:1080` when no port is.
std::string NormalizeProxy(absl::string_view proxy);

// `url` without query string or fragment, and without user info: safe to log.
std::string RedactUrl(absl::string_view url);

}  // namespace geo::updater

#endif  // UPDATER_HTTP_CLIENT_H_
