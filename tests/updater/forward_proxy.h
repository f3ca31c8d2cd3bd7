// A small HTTP proxy on 127.0.0.1 for tests: forwards absolute-form requests
// (`GET http://host:port/path`) and tunnels CONNECT, one thread per
// connection, and records what it was asked (request line and
// Proxy-Authorization), so a test can tell whether a client went through it.
#ifndef TESTS_UPDATER_FORWARD_PROXY_H_
#define TESTS_UPDATER_FORWARD_PROXY_H_

#include <string>
#include <thread>
#include <vector>

#include "absl/base/thread_annotations.h"
#include "absl/synchronization/mutex.h"
#include "absl/synchronization/notification.h"

namespace geo::updater::testing {

struct ProxiedRequest {
  std::string request_line;         // "GET http://127.0.0.1:1234/x HTTP/1.1"
  std::string proxy_authorization;  // The header's value, or empty.
};

// Thread-safe.
class ForwardProxy {
 public:
  ForwardProxy();
  ~ForwardProxy();

  int port() const { return port_; }
  // "127.0.0.1:PORT", the way GeoIP.conf's Proxy names a proxy.
  std::string address() const;
  // When set, requests without this `Proxy-Authorization` get 407.
  void RequireAuthorization(std::string header_value) ABSL_LOCKS_EXCLUDED(mu_);
  std::vector<ProxiedRequest> requests() const ABSL_LOCKS_EXCLUDED(mu_);

 private:
  void AcceptLoop();
  void Serve(int client);

  int listen_fd_ = -1;
  int port_ = 0;
  absl::Notification stop_;
  std::thread accept_thread_;
  mutable absl::Mutex mu_;
  std::string required_authorization_ ABSL_GUARDED_BY(mu_);
  std::vector<ProxiedRequest> requests_ ABSL_GUARDED_BY(mu_);
  std::vector<std::thread> connections_ ABSL_GUARDED_BY(mu_);
};

}  // namespace geo::updater::testing

#endif  // TESTS_UPDATER_FORWARD_PROXY_H_
