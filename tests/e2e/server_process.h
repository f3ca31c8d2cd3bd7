// Runs the real geo_server binary as a child process for end-to-end tests:
// free ports (the server binds port 0 and logs what it got), stderr captured
// to a file the test can search, SIGTERM and the exit status.
#ifndef TESTS_E2E_SERVER_PROCESS_H_
#define TESTS_E2E_SERVER_PROCESS_H_

#include <sys/types.h>

#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "absl/time/time.h"

namespace geo::testing {

struct ServerPorts {
  int grpc = 0;
  int http = 0;
  int metrics = 0;
  int health = 0;
};

class ServerProcess {
 public:
  // Starts `binary` with `args` plus loopback/port-0 listener flags and waits
  // (up to `timeout`) for its "Serving" log line.
  static absl::StatusOr<ServerProcess> Start(
      const std::string& binary, std::vector<std::string> args,
      absl::Duration timeout = absl::Seconds(60));
  ServerProcess(ServerProcess&& other) noexcept;
  ServerProcess& operator=(ServerProcess&&) = delete;
  // Kills the process if it still runs.
  ~ServerProcess();

  const ServerPorts& ports() const { return ports_; }
  std::string http_url(const std::string& path) const;
  std::string grpc_target() const;
  std::string metrics_url() const;
  // The liveness/readiness listener: health_url("/healthz").
  std::string health_url(const std::string& path) const;
  pid_t pid() const { return pid_; }

  // Everything the server has logged so far.
  std::string Log() const;
  // Waits for a log line containing `text`; false at the deadline.
  bool WaitForLog(const std::string& text, absl::Duration timeout) const;

  // SIGTERM, then waits for the exit; returns the exit status (or 128+signal).
  absl::StatusOr<int> Terminate(absl::Duration timeout);
  void SendSignal(int signal) const;
  // Waits for the process to exit by itself.
  absl::StatusOr<int> Wait(absl::Duration timeout);

 private:
  ServerProcess(pid_t pid, std::string log_path)
      : pid_(pid), log_path_(std::move(log_path)) {}

  pid_t pid_ = -1;
  std::string log_path_;
  ServerPorts ports_;
};

// The geo_server binary in the test's runfiles (data dependency
// //geo:geo_server).
std::string GeoServerBinary();

}  // namespace geo::testing

#endif  // TESTS_E2E_SERVER_PROCESS_H_
