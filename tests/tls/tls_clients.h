// Real TLS clients for the tests/tls suites: gRPC channels with
// SslCredentials (each its own connection), the certificate a gRPC server
// presented, curl / openssl s_client run as child processes, and gRPC load.
#ifndef TESTS_TLS_TLS_CLIENTS_H_
#define TESTS_TLS_TLS_CLIENTS_H_

#include <atomic>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <thread>
#include <vector>

#include "absl/base/thread_annotations.h"
#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "absl/synchronization/mutex.h"
#include "absl/time/time.h"
#include "geo/tls/test_certificates.h"
#include "grpcpp/channel.h"
#include "grpcpp/client_context.h"

namespace geo::tls::testing {

// How long the tests/tls suites wait for what should happen: a call's
// answer, a renewal being served, a log line. It only tells a hung call from
// a slow one: on a loaded 2-CPU machine the test process and the server can
// each go more than 10 s without running, and a shorter wait turns that into
// failed requests the product did not cause.
inline constexpr absl::Duration kPatience = absl::Seconds(60);

// A channel to `target` (host:port) that trusts `ca_path`, checks the name
// "localhost" and presents `client` when not null. Every call makes a
// channel of its own, so it opens its own connection (gRPC would otherwise
// share one subchannel among equal channels).
std::shared_ptr<grpc::Channel> TlsChannel(const std::string& target,
                                          const std::string& ca_path,
                                          const CertificateFiles* client);

// A plaintext channel of its own.
std::shared_ptr<grpc::Channel> PlaintextChannel(const std::string& target);

// The serial of the certificate the server presented on the call that
// `context` made (after it finished), upper-case hex; "" without TLS.
std::string ServedSerial(const grpc::ClientContext& context);

// A call's status and the serial of the certificate the server presented
// (after an OK call).
struct TlsCallResult {
  grpc::Status status;
  std::string serial;
};

// Makes a call with a context of its own whose deadline is kPatience away.
TlsCallResult CallWithDeadline(
    const std::function<grpc::Status(grpc::ClientContext*)>& call);

struct CommandResult {
  int exit_code = -1;
  std::string output;  // stdout
  std::string errors;  // stderr
};

// Runs `argv` (argv[0] looked up in PATH) as a ChildProcess, stdin
// /dev/null; killed after `timeout` (exit code 128 + SIGKILL).
CommandResult RunCommand(const std::vector<std::string>& argv,
                         absl::Duration timeout = absl::Seconds(30));

// curl `url` with `arguments` before it; the HTTP status (0 when the
// transfer failed: curl's exit code says why) and the body.
struct CurlResult {
  int exit_code = -1;
  int status = 0;
  std::string body;
  std::string errors;
};
CurlResult Curl(const std::string& url,
                const std::vector<std::string>& arguments);

// The serial of the certificate a TLS server on 127.0.0.1:`port` presents
// to a new connection (openssl s_client, presenting `client` when not
// null), upper-case hex.
absl::StatusOr<std::string> ServedSerialOverTls(
    int port, const std::string& ca_path,
    const CertificateFiles* client = nullptr);

// gRPC calls in a loop on several threads until Finish, the load of a
// rotation test. Each thread gets its call from `make_call(thread)` once (so
// it can keep a channel of its own) and repeats it; a call that is not OK is
// a failure. Every call is placed on the load's clock (time since the load
// started), which a Timeline shares, so a failure can be read against what
// the test did meanwhile. Thread-safe.
class CallLoad {
 public:
  using Call = std::function<grpc::Status()>;
  CallLoad(int threads, const std::function<Call(int thread)>& make_call);
  // Finishes.
  ~CallLoad();

  // Stops the threads and joins them.
  void Finish();
  int calls() const { return calls_.load(); }
  absl::Time started() const { return started_; }
  // The failed calls (a thread stops after 100 of them), each as "thread 1,
  // call from +3.2s to +13.2s: DEADLINE_EXCEEDED: Deadline Exceeded".
  std::vector<std::string> failures() const ABSL_LOCKS_EXCLUDED(mu_);
  // The slowest call so far, failed or not, in the same form; "" before
  // the first call returns.
  std::string slowest_call() const ABSL_LOCKS_EXCLUDED(mu_);

 private:
  struct CallRecord {
    int thread = 0;
    absl::Duration began;  // since started_
    absl::Duration took;
    grpc::Status status;
  };
  static std::string Describe(const CallRecord& call);
  // Keeps `call` if it failed or is the slowest; the number of failures.
  size_t Record(CallRecord call) ABSL_LOCKS_EXCLUDED(mu_);

  const absl::Time started_ = absl::Now();
  std::atomic<bool> stop_{false};
  std::atomic<int> calls_{0};
  mutable absl::Mutex mu_;
  std::vector<CallRecord> failures_ ABSL_GUARDED_BY(mu_);
  std::optional<CallRecord> slowest_ ABSL_GUARDED_BY(mu_);
  std::vector<std::thread> threads_;
};

// What a rotation test did and when, on the clock of a CallLoad started at
// `origin`, printed beside the load's failures. Thread-safe.
class Timeline {
 public:
  explicit Timeline(absl::Time origin) : origin_(origin) {}

  // Records `event` at the current time.
  void Note(absl::string_view event) ABSL_LOCKS_EXCLUDED(mu_);
  // One "+1.5s event" line per event, in order.
  std::string ToString() const ABSL_LOCKS_EXCLUDED(mu_);

 private:
  const absl::Time origin_;
  mutable absl::Mutex mu_;
  std::vector<std::string> events_ ABSL_GUARDED_BY(mu_);
};

// How long this process went without running: a thread that asks to wake
// every 10 ms keeps the longest gap between its wake-ups (steady clock),
// on the clock of a CallLoad started at `origin`. A gap as long as a call's
// deadline means the test process (or the machine) stood still, and a call
// could time out with neither client nor server at fault. Thread-safe.
class SchedulingGaps {
 public:
  explicit SchedulingGaps(absl::Time origin);
  // Stops the thread.
  ~SchedulingGaps();

  // "longest gap 1.2s, from +3.4s".
  std::string Longest() const ABSL_LOCKS_EXCLUDED(mu_);

 private:
  const absl::Time origin_;
  std::atomic<bool> stop_{false};
  mutable absl::Mutex mu_;
  absl::Duration longest_ ABSL_GUARDED_BY(mu_);
  absl::Duration longest_from_ ABSL_GUARDED_BY(mu_);
  std::thread thread_;
};

}  // namespace geo::tls::testing

#endif  // TESTS_TLS_TLS_CLIENTS_H_
