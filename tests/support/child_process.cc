#include "tests/support/child_process.h"

#include <fcntl.h>
#include <signal.h>
#include <spawn.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cerrno>
#include <cstdlib>
#include <cstring>
#include <utility>

#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_split.h"
#include "absl/time/clock.h"
#include "tests/support/loopback_ports.h"
#include "tests/support/test_files.h"

extern char** environ;

namespace geo::testing {
namespace {

constexpr absl::Duration kPollInterval = absl::Milliseconds(10);

int ExitCode(int status) {
  return WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
}

// posix_spawn's attributes and file actions, destroyed with the scope.
class SpawnSetup {
 public:
  SpawnSetup() {
    posix_spawn_file_actions_init(&actions_);
    posix_spawnattr_init(&attributes_);
  }
  ~SpawnSetup() {
    posix_spawn_file_actions_destroy(&actions_);
    posix_spawnattr_destroy(&attributes_);
  }
  SpawnSetup(const SpawnSetup&) = delete;
  SpawnSetup& operator=(const SpawnSetup&) = delete;

  posix_spawn_file_actions_t* actions() { return &actions_; }
  posix_spawnattr_t* attributes() { return &attributes_; }

 private:
  posix_spawn_file_actions_t actions_;
  posix_spawnattr_t attributes_;
};

}  // namespace

void AddSanitizerOptions(std::map<std::string, std::string>* environment) {
  for (const char* name : {"TSAN_OPTIONS", "ASAN_OPTIONS", "UBSAN_OPTIONS"}) {
    if (const char* value = std::getenv(name)) (*environment)[name] = value;
  }
}

absl::StatusOr<std::string> FindProgram(const std::string& name) {
  if (absl::StrContains(name, '/')) return name;
  const char* path = std::getenv("PATH");
  for (absl::string_view directory :
       absl::StrSplit(path != nullptr ? path : "", ':', absl::SkipEmpty())) {
    std::string candidate = absl::StrCat(directory, "/", name);
    if (::access(candidate.c_str(), X_OK) == 0) return candidate;
  }
  return absl::NotFoundError(absl::StrCat(name, " is not on PATH"));
}

absl::StatusOr<ChildProcess> ChildProcess::Start(ChildOptions options) {
  if (options.argv.empty()) return absl::InvalidArgumentError("empty argv");
  const std::string dir = NewTempDir();
  std::string stdout_path = dir + "/stdout";
  std::string stderr_path = dir + "/stderr";

  SpawnSetup setup;
  posix_spawn_file_actions_addopen(setup.actions(), STDIN_FILENO, "/dev/null",
                                   O_RDONLY, 0);
  posix_spawn_file_actions_addopen(setup.actions(), STDOUT_FILENO,
                                   stdout_path.c_str(),
                                   O_WRONLY | O_CREAT | O_TRUNC, 0644);
  posix_spawn_file_actions_addopen(setup.actions(), STDERR_FILENO,
                                   stderr_path.c_str(),
                                   O_WRONLY | O_CREAT | O_TRUNC, 0644);
  sigset_t none;
  sigemptyset(&none);
  sigset_t all;
  sigfillset(&all);
  posix_spawnattr_setsigmask(setup.attributes(), &none);
  posix_spawnattr_setsigdefault(setup.attributes(), &all);
  posix_spawnattr_setflags(setup.attributes(),
                           POSIX_SPAWN_SETSIGMASK | POSIX_SPAWN_SETSIGDEF);

  std::vector<char*> argv;
  for (std::string& arg : options.argv) argv.push_back(arg.data());
  argv.push_back(nullptr);
  std::vector<std::string> entries;
  std::vector<char*> envp;
  if (options.environment.has_value()) {
    for (const auto& [name, value] : *options.environment) {
      entries.push_back(absl::StrCat(name, "=", value));
    }
    for (std::string& entry : entries) envp.push_back(entry.data());
    envp.push_back(nullptr);
  }
  pid_t pid = -1;
  const int result =
      posix_spawn(&pid, argv[0], setup.actions(), setup.attributes(),
                  argv.data(), envp.empty() ? environ : envp.data());
  if (result != 0) {
    return absl::InternalError(absl::StrCat("posix_spawn ", options.argv[0],
                                            ": ", std::strerror(result)));
  }
  return ChildProcess(pid, std::move(stdout_path), std::move(stderr_path),
                      options.stop_grace);
}

ChildProcess::ChildProcess(pid_t pid, std::string stdout_path,
                           std::string stderr_path, absl::Duration stop_grace)
    : pid_(pid),
      stdout_path_(std::move(stdout_path)),
      stderr_path_(std::move(stderr_path)),
      stop_grace_(stop_grace) {}

ChildProcess::ChildProcess(ChildProcess&& other) noexcept
    : pid_(std::exchange(other.pid_, -1)),
      exit_code_(std::exchange(other.exit_code_, -1)),
      stdout_path_(std::move(other.stdout_path_)),
      stderr_path_(std::move(other.stderr_path_)),
      stop_grace_(other.stop_grace_) {}

ChildProcess::~ChildProcess() {
  if (pid_ > 0 && running()) Stop(stop_grace_);
}

std::string ChildProcess::Stdout() const { return ReadFile(stdout_path_); }
std::string ChildProcess::Stderr() const { return ReadFile(stderr_path_); }

bool ChildProcess::WaitForOutput(const std::string& text,
                                 absl::Duration timeout) {
  const absl::Time deadline = absl::Now() + timeout;
  while (true) {
    // Checked once more after the exit: the child may have written the text
    // just before it.
    const bool exited = Wait(absl::ZeroDuration()).has_value();
    if (absl::StrContains(Stderr(), text) ||
        absl::StrContains(Stdout(), text)) {
      return true;
    }
    if (exited || absl::Now() >= deadline) return false;
    absl::SleepFor(kPollInterval);
  }
}

bool ChildProcess::WaitForPort(int port, absl::Duration timeout) {
  const absl::Time deadline = absl::Now() + timeout;
  while (!Wait(absl::ZeroDuration()).has_value()) {
    if (AcceptsConnections(port)) return true;
    if (absl::Now() >= deadline) return false;
    absl::SleepFor(kPollInterval);
  }
  return false;
}

void ChildProcess::Signal(int signal) const {
  if (pid_ > 0 && running()) ::kill(pid_, signal);
}

std::optional<int> ChildProcess::Wait(absl::Duration timeout) {
  if (!running()) return exit_code_;
  const absl::Time deadline = absl::Now() + timeout;
  while (true) {
    int status = 0;
    const pid_t done = ::waitpid(pid_, &status, WNOHANG);
    if (done == pid_) {
      exit_code_ = ExitCode(status);
      return exit_code_;
    }
    if (done < 0 && errno != EINTR) {
      // Reaped elsewhere (or never ours): nothing left to wait for.
      exit_code_ = -1;
      return exit_code_;
    }
    if (absl::Now() >= deadline) return std::nullopt;
    absl::SleepFor(kPollInterval);
  }
}

int ChildProcess::Stop(absl::Duration grace) {
  if (!running()) return *exit_code_;
  if (grace > absl::ZeroDuration()) {
    Signal(SIGTERM);
    if (std::optional<int> code = Wait(grace)) return *code;
  }
  Signal(SIGKILL);
  return *Wait(absl::InfiniteDuration());
}

}  // namespace geo::testing
