// A small HTTP proxy on 127.0.0.1 for tests: forwards absolute-form requests
// (`GET http://host:port/path`) and tunnels CONNECT, one thread per
// connection, and records what it was asked (request line and
// Proxy-Authorization), so a test can tell whether a client went through it.
#ifndef TESTS_UPDATER_FORWARD_PROXY_H_
#define TESTS_UPDATER_FORWARD_PROXY_H_

#include <string>
#include <vector>

#include "absl/base/thread_annotations.h"
#include "absl/synchronization/mutex.h"
#include "tests/support/loopback_listener.h"

namespace geo::updater::testing {

struct ProxiedRequest {
  std::string request_line;         // "GET http://127.0.0.1:1234/x HTTP/1.1"
  std::string proxy_authorization;  // The header's value, or empty.
};

// Thread-safe.
class ForwardProxy {
 public:
  int port() const { return listener_.port(); }
  // "127.0.0.1:PORT", the way GeoIP.conf's Proxy names a proxy.
  std::string address() const;
  // When set, requests without this `Proxy-Authorization` get 407.
  void RequireAuthorization(std::string header_value) ABSL_LOCKS_EXCLUDED(mu_);
  std::vector<ProxiedRequest> requests() const ABSL_LOCKS_EXCLUDED(mu_);

 private:
  void Serve(int client);

  mutable absl::Mutex mu_;
  std::string required_authorization_ ABSL_GUARDED_BY(mu_);
  std::vector<ProxiedRequest> requests_ ABSL_GUARDED_BY(mu_);
  // Last: its destructor joins the connections, which use every member above.
  ::geo::testing::LoopbackListener listener_{[this](int fd) { Serve(fd); }};
};

}  // namespace geo::updater::testing

#endif  // TESTS_UPDATER_FORWARD_PROXY_H_
