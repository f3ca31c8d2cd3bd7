// Raw bytes as one client connection to the real HTTP stack: HttpServer
// (Boost.Beast's parser, the server's limits) in front of the grpc-gateway
// router and the LookupService, over a loopback socket. Each input is sent,
// the client half-closes, and the answer is read to the end.
//
// Oracles: the server closes the connection after the client's EOF (no
// request, however malformed, may leave a connection hanging); everything it
// answers starts with an HTTP/1.x status line; no input draws a 5xx other
// than 501 (unknown method) and 503 (only when no test database is in the
// runfiles); and the server keeps accepting connections.

#include <cstddef>
#include <cstdint>
#include <memory>
#include <string>

#include "absl/status/statusor.h"
#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/string_view.h"
#include "absl/time/time.h"
#include "geo/common/clock.h"
#include "geo/common/logging.h"
#include "geo/data/geo_store.h"
#include "geo/http/http_server.h"
#include "geo/http/router.h"
#include "geo/http/test_http_client.h"
#include "geo/policy/policy_store.h"
#include "geo/server/caller_address.h"
#include "geo/server/http_routes.h"
#include "geo/server/lookup_service.h"
#include "geo/server/server_metrics.h"
#include "prometheus/registry.h"
#include "tests/fuzz/fuzz_check.h"
#include "tests/support/test_files.h"

namespace {

// How long the server may take to finish with a connection whose client
// has sent everything and half-closed. Generous: sanitizers, two cores.
constexpr absl::Duration kCloseDeadline = absl::Seconds(5);

// The whole server, built once per process and never torn down (libFuzzer
// exits without running destructors anyway).
struct Fixture {
  std::shared_ptr<prometheus::Registry> registry =
      std::make_shared<prometheus::Registry>();
  std::unique_ptr<geo::ServerMetrics> metrics;
  std::unique_ptr<geo::GeoStore> store;
  std::unique_ptr<geo::policy::PolicyStore> policies;
  std::unique_ptr<geo::CallerResolver> callers;
  std::unique_ptr<geo::LookupService> service;
  std::unique_ptr<geo::http::Router> router;
  std::unique_ptr<geo::http::HttpServer> server;
  bool ready = false;
};

Fixture* StartFixture() {
  geo::SetMinLogLevel(geo::LogLevel::kError);
  auto* fixture = new Fixture;
  fixture->metrics = std::make_unique<geo::ServerMetrics>(fixture->registry,
                                                          geo::Clock::Real());
  // A City database when the runfiles have one (bazel test; tools/fuzz.sh
  // points TEST_SRCDIR at the runfiles), so lookups reach record decoding.
  geo::GeoStoreOptions store_options;
  const std::string data = geo::testing::MaxmindTestDataDir();
  if (!data.empty()) {
    store_options.paths = {data + "/test-data/GeoIP2-City-Test.mmdb"};
  }
  store_options.log_reloads = false;
  fixture->store = std::make_unique<geo::GeoStore>(store_options);
  for (const std::string& path : store_options.paths) {
    FUZZ_CHECK(fixture->store->Reload(path).ok(), path);
  }
  fixture->ready = fixture->store->ready();
  std::fprintf(stderr, "http_request_fuzzer: database %s\n",
               fixture->ready ? "loaded" : "absent (lookups answer 503)");
  fixture->policies = std::make_unique<geo::policy::PolicyStore>();
  auto callers = geo::CallerResolver::Create({"127.0.0.0/8", "::1/128"});
  FUZZ_CHECK(callers.ok(), callers.status().ToString());
  fixture->callers = std::make_unique<geo::CallerResolver>(*std::move(callers));
  fixture->service = std::make_unique<geo::LookupService>(
      fixture->store.get(), fixture->policies.get(), fixture->callers.get(),
      fixture->metrics.get(), geo::Clock::Real(),
      geo::LookupService::Options{/*max_batch_size=*/50});
  auto router = geo::BuildHttpRoutes(fixture->service.get(),
                                     [fixture] { return fixture->ready; });
  FUZZ_CHECK(router.ok(), router.status().ToString());
  fixture->router = *std::move(router);
  // Small limits, so inputs reach the 413/431 paths.
  geo::http::HttpServerOptions options;
  options.io_threads = 2;
  options.max_header_bytes = 2048;
  options.max_body_bytes = 8192;
  options.max_connections = 64;
  auto server =
      geo::http::HttpServer::Start(options, fixture->router->AsHandler());
  FUZZ_CHECK(server.ok(), server.status().ToString());
  fixture->server = *std::move(server);
  return fixture;
}

// Sends `input` (ignoring a peer that closes early: the server may refuse
// after the headers), half-closes and reads until EOF. Returns what the
// server sent; sets `closed` when it closed within the deadline.
std::string Exchange(uint16_t port, absl::string_view input, bool* closed) {
  absl::StatusOr<geo::http::RawConnection> connection =
      geo::http::RawConnection::Connect(port);
  FUZZ_CHECK(connection.ok(), connection.status().ToString());
  connection->Send(input);
  connection->ShutdownWrite();
  std::string answer;
  *closed = connection->WaitForClose(kCloseDeadline, &answer);
  return answer;
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  static Fixture* const fixture = StartFixture();
  const absl::string_view input(reinterpret_cast<const char*>(data), size);
  bool closed = false;
  const std::string answer = Exchange(fixture->server->port(), input, &closed);
  FUZZ_CHECK(closed, "connection still open after the client's EOF");
  if (!answer.empty()) {
    // The server answers in the request's version (1.0 or 1.1).
    FUZZ_CHECK(absl::StartsWith(answer, "HTTP/1.1 ") ||
                   absl::StartsWith(answer, "HTTP/1.0 "),
               answer.substr(0, 64));
  }
  // Only the first status line is unambiguous: later responses could only be
  // found by trusting Content-Length, which HEAD answers do not follow.
  // 501 is the router's answer to an unknown method (grpc-gateway v1 maps
  // UNIMPLEMENTED to it); 503 only while no database is loaded.
  if (answer.size() >= 12 && answer[9] == '5' &&
      answer.compare(9, 3, "501") != 0) {
    FUZZ_CHECK(answer.compare(9, 3, "503") == 0 && !fixture->ready,
               absl::StrCat("server answered ", answer.substr(0, 300)));
  }
  return 0;
}
