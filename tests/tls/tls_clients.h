// Real TLS clients for the tests/tls suites: gRPC channels with
// SslCredentials (each its own connection), the certificate a gRPC server
// presented, curl / openssl s_client run as child processes, and gRPC load.
#ifndef TESTS_TLS_TLS_CLIENTS_H_
#define TESTS_TLS_TLS_CLIENTS_H_

#include <atomic>
#include <functional>
#include <memory>
#include <string>
#include <thread>
#include <vector>

#include "absl/base/thread_annotations.h"
#include "absl/status/statusor.h"
#include "absl/synchronization/mutex.h"
#include "geo/tls/test_certificates.h"
#include "grpcpp/channel.h"
#include "grpcpp/client_context.h"

namespace geo::tls::testing {

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

// Makes a call with a context of its own whose deadline is 10 s away.
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
// a failure. Thread-safe.
class CallLoad {
 public:
  using Call = std::function<grpc::Status()>;
  CallLoad(int threads, const std::function<Call(int thread)>& make_call);
  // Finishes.
  ~CallLoad();

  // Stops the threads and joins them.
  void Finish();
  int calls() const { return calls_.load(); }
  // The failed calls' messages (a thread stops after 100 of them).
  std::vector<std::string> failures() const ABSL_LOCKS_EXCLUDED(mu_);

 private:
  std::atomic<bool> stop_{false};
  std::atomic<int> calls_{0};
  mutable absl::Mutex mu_;
  std::vector<std::string> failures_ ABSL_GUARDED_BY(mu_);
  std::vector<std::thread> threads_;
};

}  // namespace geo::tls::testing

#endif  // TESTS_TLS_TLS_CLIENTS_H_
