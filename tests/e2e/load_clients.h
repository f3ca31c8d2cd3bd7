// Concurrent HTTP and gRPC lookup clients for end-to-end load tests, the
// tally of what they saw, and a single gRPC lookup.
#ifndef TESTS_E2E_LOAD_CLIENTS_H_
#define TESTS_E2E_LOAD_CLIENTS_H_

#include <atomic>
#include <cstdint>
#include <limits>
#include <memory>
#include <string>
#include <thread>
#include <vector>

#include "absl/base/thread_annotations.h"
#include "absl/strings/str_cat.h"
#include "absl/synchronization/mutex.h"
#include "absl/time/clock.h"
#include "absl/time/time.h"
#include "api/geo/v1/geo.grpc.pb.h"
#include "grpcpp/support/status.h"
#include "tests/support/server_process.h"

namespace geo::testing {

// Tallies of what clients saw. Thread-safe.
//
// Without a shutdown every failure counts. After `set_shutdown(signalled,
// drain_delay)` the server must keep serving normally until at least
// `signalled + drain_delay` (it starts its drain delay only after the signal
// arrives), so a failure the client *observed* before then is a failure of
// the server. One observed later may be a request that raced the listener
// close (an HTTP keep-alive connection closed while idle, a gRPC stream
// behind the GOAWAY): a client retries those elsewhere, so they count as not
// accepted. Whether requests in flight at the close finish is checked
// deterministically by the test itself, never by these timestamps: on a
// loaded 2-core machine a client thread can sit descheduled for over a
// second between taking a timestamp and sending (CI saw it).
class Outcomes {
 public:
  void set_shutdown(absl::Time signalled, absl::Duration drain_delay) {
    signalled_ns_.store(absl::ToUnixNanos(signalled));
    serving_until_ns_.store(absl::ToUnixNanos(signalled + drain_delay));
  }
  // Classifies a failed request. A refused connection is never an accepted
  // request that failed: on loopback only a closed listener refuses.
  void Failure(const std::string& what) {
    const int64_t observed = absl::ToUnixNanos(absl::Now());
    if (what.find("Couldn't connect") != std::string::npos ||
        what.find("Connection refused") != std::string::npos ||
        observed >= serving_until_ns_.load()) {
      NotAccepted();
    } else {
      Failed(what);
    }
  }
  void Ok() {
    ok_.fetch_add(1, std::memory_order_relaxed);
    if (absl::ToUnixNanos(absl::Now()) > signalled_ns_.load()) {
      ok_after_signal_.fetch_add(1, std::memory_order_relaxed);
    }
  }
  // Refused before the server accepted the request (listener closed).
  void NotAccepted() { not_accepted_.fetch_add(1, std::memory_order_relaxed); }
  void Failed(const std::string& what) {
    failed_.fetch_add(1, std::memory_order_relaxed);
    absl::MutexLock lock(&mu_);
    if (examples_.size() < 5) examples_.push_back(what);
  }
  int ok() const { return ok_.load(); }
  // Successes that completed after the shutdown signal was sent.
  int ok_after_signal() const { return ok_after_signal_.load(); }
  int not_accepted() const { return not_accepted_.load(); }
  int failed() const { return failed_.load(); }
  std::string examples() const {
    absl::MutexLock lock(&mu_);
    std::string all;
    for (const std::string& example : examples_)
      absl::StrAppend(&all, example, "\n");
    return all;
  }

 private:
  std::atomic<int64_t> signalled_ns_{std::numeric_limits<int64_t>::max()};
  std::atomic<int64_t> serving_until_ns_{std::numeric_limits<int64_t>::max()};
  std::atomic<int> ok_{0};
  std::atomic<int> ok_after_signal_{0};
  std::atomic<int> not_accepted_{0};
  std::atomic<int> failed_{0};
  mutable absl::Mutex mu_;
  std::vector<std::string> examples_ ABSL_GUARDED_BY(mu_);
};

// What every answer must say: `address` looked up gives `country`.
struct LookupExpectation {
  std::string address;
  std::string country;
};

// Loops until `stop`: GET /v1/lookup/{address} on one keep-alive connection;
// each answer must be a 200 whose country is the expected one.
void HttpLookupLoop(const ServerProcess& server,
                    const LookupExpectation& expect,
                    const std::atomic<bool>& stop, Outcomes* outcomes);

// The same over one gRPC channel with Lookup.
void GrpcLookupLoop(const ServerProcess& server,
                    const LookupExpectation& expect,
                    const std::atomic<bool>& stop, Outcomes* outcomes);

// A GeoService stub on a plaintext channel of its own to `server`.
std::unique_ptr<geo::v1::GeoService::Stub> GeoStub(const ServerProcess& server);

// Lookup of `ip` through `stub`, with a context of its own and a 10 s
// deadline; the answer in `response`.
grpc::Status GrpcLookup(geo::v1::GeoService::Stub& stub, const std::string& ip,
                        geo::v1::LookupResponse* response);

// Starts `per_protocol` HTTP and as many gRPC lookup loops; the caller sets
// `stop` and joins them. `server`, `stop` and `outcomes` must outlive them.
std::vector<std::thread> StartLookupClients(const ServerProcess& server,
                                            const LookupExpectation& expect,
                                            int per_protocol,
                                            const std::atomic<bool>& stop,
                                            Outcomes* outcomes);

}  // namespace geo::testing

#endif  // TESTS_E2E_LOAD_CLIENTS_H_
