// Runs a program (the real updater binary) as a child process for CLI-level
// tests: explicit argv and environment, stdout and stderr captured to files.
#ifndef TESTS_UPDATER_SUBPROCESS_H_
#define TESTS_UPDATER_SUBPROCESS_H_

#include <sys/types.h>

#include <map>
#include <string>
#include <vector>

#include "absl/time/time.h"
#include "absl/types/optional.h"

namespace geo::updater::testing {

// Not thread-safe.
class Subprocess {
 public:
  // Starts `argv` with exactly `env`. Output goes to files in TEST_TMPDIR.
  Subprocess(std::vector<std::string> argv,
             const std::map<std::string, std::string>& env);
  // Kills (SIGKILL) and reaps the child if still running.
  ~Subprocess();

  pid_t pid() const { return pid_; }
  // Waits up to `timeout`; the exit code (128 + signal when killed), or
  // nullopt when still running.
  absl::optional<int> Wait(absl::Duration timeout);
  void Signal(int signal);

  std::string Stdout() const;
  std::string Stderr() const;

 private:
  pid_t pid_ = -1;
  bool reaped_ = false;
  int exit_code_ = -1;
  std::string stdout_path_;
  std::string stderr_path_;
};

// The updater binary in the test's runfiles.
std::string UpdaterBinary();

}  // namespace geo::updater::testing

#endif  // TESTS_UPDATER_SUBPROCESS_H_
