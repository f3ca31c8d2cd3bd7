// Runs a program as a child process of a test: explicit argv, the test's
// environment or exactly the one given, stdin from /dev/null, stdout and
// stderr captured to files the test can read while the child runs, and an
// exit status. A child still running when its owner goes away gets SIGTERM,
// then SIGKILL after a grace period, and is reaped.
#ifndef TESTS_SUPPORT_CHILD_PROCESS_H_
#define TESTS_SUPPORT_CHILD_PROCESS_H_

#include <sys/types.h>

#include <map>
#include <optional>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "absl/time/time.h"

namespace geo::testing {

struct ChildOptions {
  // argv[0] is the program's path (no PATH search).
  std::vector<std::string> argv;
  // Exactly these variables; the test's own environment when unset.
  std::optional<std::map<std::string, std::string>> environment;
  // How long the destructor waits after SIGTERM before SIGKILL. Zero kills
  // at once (a test that wants an orderly exit calls Stop itself).
  absl::Duration stop_grace = absl::Seconds(10);
};

// Adds the sanitizer settings Bazel gave this test (TSAN_OPTIONS,
// ASAN_OPTIONS, UBSAN_OPTIONS) to an exact child environment, so an
// instrumented child reports and halts the way the test does.
void AddSanitizerOptions(std::map<std::string, std::string>* environment);

// The path a shell would run for `name`: `name` itself when it holds a
// '/', else the first executable `name` in a directory of $PATH; NOT_FOUND
// when there is none.
absl::StatusOr<std::string> FindProgram(const std::string& name);

// Move-only. Not thread-safe: one thread drives a child.
class ChildProcess {
 public:
  // Starts the child (posix_spawn: no fork of a multi-threaded test; the
  // child starts with no blocked signals and default dispositions).
  static absl::StatusOr<ChildProcess> Start(ChildOptions options);

  ChildProcess(ChildProcess&& other) noexcept;
  ChildProcess& operator=(ChildProcess&&) = delete;
  ~ChildProcess();

  pid_t pid() const { return pid_; }
  // False once the exit status has been collected.
  bool running() const { return !exit_code_.has_value(); }

  // What the child has written so far.
  std::string Stdout() const;
  std::string Stderr() const;
  // Waits until stdout or stderr contains `text`; false at the deadline or
  // when the child exits without writing it.
  bool WaitForOutput(const std::string& text, absl::Duration timeout);
  // Waits until 127.0.0.1:`port` accepts a connection; false at the deadline
  // or when the child exits.
  bool WaitForPort(int port, absl::Duration timeout);

  void Signal(int signal) const;
  // Waits up to `timeout` for the exit; the exit code (128 + signal when
  // killed by one), or nullopt while it still runs.
  std::optional<int> Wait(absl::Duration timeout);
  // SIGTERM, up to `grace` for the exit, then SIGKILL; the exit code.
  int Stop(absl::Duration grace);

 private:
  ChildProcess(pid_t pid, std::string stdout_path, std::string stderr_path,
               absl::Duration stop_grace);

  pid_t pid_ = -1;
  std::optional<int> exit_code_;
  std::string stdout_path_;
  std::string stderr_path_;
  absl::Duration stop_grace_;
};

}  // namespace geo::testing

#endif  // TESTS_SUPPORT_CHILD_PROCESS_H_
