// Runs the real geo_server binary as a child process for end-to-end tests:
// loopback listeners on ports it picks itself (it binds port 0 and logs what
// it got), its log captured for the test to search, signals and the exit
// status.
#ifndef TESTS_SUPPORT_SERVER_PROCESS_H_
#define TESTS_SUPPORT_SERVER_PROCESS_H_

#include <sys/types.h>

#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "absl/time/time.h"
#include "geo/server/server_ports.h"
#include "tests/support/child_process.h"
#include "tests/support/test_files.h"  // GeoServerBinary

namespace geo::testing {

// Move-only. Not thread-safe, except Log() and the URL accessors.
class ServerProcess {
 public:
  // Starts `binary` with `args` plus loopback/port-0 listener flags and waits
  // (up to `timeout`) for its "Serving" log line. `launcher`, when given,
  // comes first: a program that sets something up and then executes the
  // rest of its command line, keeping its pid (e.g. `prlimit --nofile=N:N`;
  // its argv[0] is a path, as FindProgram returns it).
  static absl::StatusOr<ServerProcess> Start(
      const std::string& binary, std::vector<std::string> args,
      absl::Duration timeout = absl::Seconds(60),
      const std::vector<std::string>& launcher = {});
  ServerProcess(ServerProcess&& other) noexcept = default;
  ServerProcess& operator=(ServerProcess&&) = delete;
  // Kills the process (SIGKILL) if it still runs: a test that means to check
  // an orderly shutdown calls Terminate.
  ~ServerProcess() = default;

  const ServerPorts& ports() const { return ports_; }
  std::string http_url(const std::string& path) const;
  std::string grpc_target() const;
  std::string metrics_url() const;
  // The liveness/readiness listener: health_url("/healthz").
  std::string health_url(const std::string& path) const;
  pid_t pid() const { return process_.pid(); }

  // Everything the server has logged so far.
  std::string Log() const;
  // Waits for a log line containing `text`; false at the deadline.
  bool WaitForLog(const std::string& text, absl::Duration timeout);

  // SIGTERM, then waits for the exit; returns the exit status (or 128+signal).
  absl::StatusOr<int> Terminate(absl::Duration timeout);
  void SendSignal(int signal) const;
  // Waits for the process to exit by itself.
  absl::StatusOr<int> Wait(absl::Duration timeout);

 private:
  explicit ServerProcess(ChildProcess process) : process_(std::move(process)) {}

  ChildProcess process_;
  ServerPorts ports_;
};

}  // namespace geo::testing

#endif  // TESTS_SUPPORT_SERVER_PROCESS_H_
