// Concurrent HTTP and gRPC lookup clients for end-to-end load tests, and the
// tally of what they saw.
#ifndef TESTS_E2E_LOAD_CLIENTS_H_
#define TESTS_E2E_LOAD_CLIENTS_H_

#include <atomic>
#include <cstdint>
#include <limits>
#include <string>
#include <thread>
#include <vector>

#include "absl/base/thread_annotations.h"
#include "absl/strings/str_cat.h"
#include "absl/synchronization/mutex.h"
#include "absl/time/time.h"
#include "tests/e2e/server_process.h"

namespace geo::testing {

// Tallies of what clients saw. Thread-safe.
//
// A request that fails after it was sent at or after the moment the server
// stops accepting (SIGTERM + drain delay: load balancers have stopped routing
// by then) was never accepted, and a client retries it elsewhere. A request
// sent before that moment must succeed.
class Outcomes {
 public:
  void set_accepting_until(absl::Time cutoff) {
    accepting_until_ns_.store(absl::ToUnixNanos(cutoff));
  }
  // Classifies a failed request that was sent at `sent`. A refused
  // connection is never a failure of an accepted request, whenever the client
  // thought it sent it: on loopback only a closed listener refuses, and the
  // server closes it only after the drain delay. (Timestamps alone are not
  // enough: on a loaded 2-core machine, under sanitizers, a client thread can
  // sit descheduled for over a second between taking `sent` and connecting.)
  void Failure(absl::Time sent, const std::string& what) {
    if (what.find("Couldn't connect") != std::string::npos ||
        what.find("Connection refused") != std::string::npos ||
        absl::ToUnixNanos(sent) >= accepting_until_ns_.load()) {
      NotAccepted();
    } else {
      Failed(what);
    }
  }
  void Ok() { ok_.fetch_add(1, std::memory_order_relaxed); }
  // Refused before the server accepted the request (listener closed).
  void NotAccepted() { not_accepted_.fetch_add(1, std::memory_order_relaxed); }
  void Failed(const std::string& what) {
    failed_.fetch_add(1, std::memory_order_relaxed);
    absl::MutexLock lock(&mu_);
    if (examples_.size() < 5) examples_.push_back(what);
  }
  int ok() const { return ok_.load(); }
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
  std::atomic<int64_t> accepting_until_ns_{std::numeric_limits<int64_t>::max()};
  std::atomic<int> ok_{0};
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

// Starts `per_protocol` HTTP and as many gRPC lookup loops; the caller sets
// `stop` and joins them. `server`, `stop` and `outcomes` must outlive them.
std::vector<std::thread> StartLookupClients(const ServerProcess& server,
                                            const LookupExpectation& expect,
                                            int per_protocol,
                                            const std::atomic<bool>& stop,
                                            Outcomes* outcomes);

}  // namespace geo::testing

#endif  // TESTS_E2E_LOAD_CLIENTS_H_
