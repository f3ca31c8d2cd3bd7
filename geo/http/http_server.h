// An HTTP/1.1 server on Boost.Beast and Asio (see
// docs/adr/0006-http-library-boost-beast.md).
//
// Requests are framed strictly: a Transfer-Encoding other than exactly
// "chunked" (RFC 9112 section 6.3: chunked not final, repeated, or on an
// HTTP/1.0 request) is 400, "chunked" after another coding (we implement
// none) is 501, and Transfer-Encoding with Content-Length is 400; each closes
// the connection, since the rest of the stream cannot be framed. Trailer
// fields are checked against the header budget and then dropped: handlers
// see only the header section.
//
// Memory: while a connection is idle between requests it holds no request
// and, once a large request or response has passed, gives back its buffers
// down to a small steady-state size (normal small requests reuse them).
//
// Model: N io threads, each running its own io_context; the acceptor hands
// each new connection to the next thread round-robin, and the connection lives
// on that thread for its whole life. So a connection needs no strand and no
// lock, and requests on one connection are served in order (keep-alive and
// pipelining). Handlers run on the io thread and must not block for long.
//
// Cost per request (docs/adr/0019-lean-http-hot-path.md): in steady state a
// connection allocates nothing (the parser's fields live in a per-connection
// arena, buffers keep their capacity), writes the response head and body in
// one gather write, and arms no timer: each io thread checks its
// connections' deadlines (idle, request, write) every eighth of the shortest
// timeout (5 ms to 250 ms), so a timeout fires up to that much late.
//
//   HttpServerOptions options;  // 127.0.0.1, port 0: tests
//   auto server = HttpServer::Start(options, [](const HttpRequest& request,
//                                               HttpResponse* response) {...});
//   ... (*server)->port() ...
//   (*server)->Shutdown(absl::Now() + absl::Seconds(10));
#ifndef GEO_HTTP_HTTP_SERVER_H_
#define GEO_HTTP_HTTP_SERVER_H_

#include <cstdint>
#include <functional>
#include <memory>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "absl/time/time.h"
#include "geo/http/http_message.h"
#include "geo/tls/certificate_reloader.h"
#include "geo/tls/identity.h"
#include "geo/tls/tls_metrics.h"

namespace geo::http {

// Called once per request, on an io thread. May be called concurrently from
// different io threads.
using HttpHandler = std::function<void(const HttpRequest&, HttpResponse*)>;

// TLS on a listener: every accepted connection takes the certificate set in
// force (so a rotation applies to new connections, and open ones finish on
// theirs), handshakes within request_timeout, and is checked once against
// the client-identity allow-list; a connection whose client is not on it is
// answered 403 (PERMISSION_DENIED) and closed.
struct HttpTlsOptions {
  // Not owned; must outlive the server.
  const tls::CertificateReloader* certificates = nullptr;
  // Empty: any client the handshake accepts.
  tls::ClientIdentityAllowList allowed_clients;
  // Not owned; may be null. Counts allow-list refusals under `listener`.
  tls::TlsMetrics* metrics = nullptr;
  tls::Listener listener = tls::Listener::kHttp;
};

struct HttpServerOptions {
  // An IPv4 or IPv6 literal ("0.0.0.0", "::" for all interfaces).
  std::string address = "127.0.0.1";
  // 0 picks an ephemeral port; read it back with HttpServer::port().
  uint16_t port = 0;
  int io_threads = 1;
  // Request line plus header fields; beyond it the answer is 431. The same
  // budget holds what a chunked body carries besides its data: chunk
  // extensions (beyond it: 400) and trailer fields (beyond it: 431).
  // A connection's read buffer never exceeds this plus 4 KiB, whatever the
  // client sends; a chunk-size line or trailer section that does not fit in
  // it is refused the same way.
  uint32_t max_header_bytes = 16 * 1024;
  // Beyond it the answer is 413 (checked against Content-Length, or each
  // chunk's size, before the data arrives).
  uint64_t max_body_bytes = 1024 * 1024;
  // Connections beyond this are answered 503 and closed.
  int max_connections = 10000;
  // Open connections from one peer address (0: no limit); beyond it the
  // connection is answered 503 and closed, as for max_connections. Counted
  // per exact address, IPv6 included (a pod has one address).
  int max_connections_per_peer = 0;
  // How long a keep-alive connection may wait for the first byte of its next
  // request before it is closed.
  absl::Duration idle_timeout = absl::Seconds(60);
  // From the first byte of a request to its last; a slower client (slowloris)
  // gets 408 and is disconnected.
  absl::Duration request_timeout = absl::Seconds(10);
  // For writing one response; a client that does not read is disconnected.
  absl::Duration write_timeout = absl::Seconds(10);
  // TLS when `tls.certificates` is set; plaintext otherwise.
  HttpTlsOptions tls;
  // The body of the errors the server answers itself (see HttpErrorBody);
  // handlers write their own. Empty: PlainTextErrorBody.
  HttpErrorFormatter error_formatter = PlainTextErrorBody;
};

// Thread-safe.
class HttpServer {
 public:
  // Binds, listens and starts the io threads. Fails (UNAVAILABLE or
  // INVALID_ARGUMENT) when the address is bad or the port cannot be bound.
  static absl::StatusOr<std::unique_ptr<HttpServer>> Start(
      const HttpServerOptions& options, HttpHandler handler);

  // Shuts down with an immediate deadline if Shutdown was not called.
  ~HttpServer();

  HttpServer(const HttpServer&) = delete;
  HttpServer& operator=(const HttpServer&) = delete;

  // The bound port (the ephemeral one when options.port was 0).
  uint16_t port() const;

  // Open connections, including ones being refused.
  int active_connections() const;

  // Stops accepting, closes idle keep-alive connections, lets requests in
  // progress finish (their responses say "Connection: close"), and at
  // `deadline` closes whatever is left. Returns once the io threads have
  // exited. Idempotent. A handler that never returns blocks it; must not be
  // called from a handler (it joins the io threads).
  void Shutdown(absl::Time deadline);

 private:
  class Impl;

  explicit HttpServer(std::unique_ptr<Impl> impl);

  std::unique_ptr<Impl> impl_;
};

}  // namespace geo::http

#endif  // GEO_HTTP_HTTP_SERVER_H_
