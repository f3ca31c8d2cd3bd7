#include "tests/e2e/server_process.h"

#include <fcntl.h>
#include <signal.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cstdlib>
#include <fstream>
#include <sstream>
#include <utility>

#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/time/clock.h"
#include "geo/data/test_data.h"

namespace geo::testing {
namespace {

// The integer after "\"key\":" in a log line.
int JsonInt(const std::string& line, const std::string& key) {
  const std::string needle = absl::StrCat("\"", key, "\":");
  size_t at = line.find(needle);
  if (at == std::string::npos) return 0;
  at += needle.size();
  size_t end = line.find_first_not_of("0123456789", at);
  int value = 0;
  if (!absl::SimpleAtoi(line.substr(at, end - at), &value)) return 0;
  return value;
}

}  // namespace

std::string GeoServerBinary() {
  const char* srcdir = std::getenv("TEST_SRCDIR");
  const char* workspace = std::getenv("TEST_WORKSPACE");
  return absl::StrCat(srcdir ? srcdir : ".", "/", workspace ? workspace : "geo",
                      "/geo/geo_server");
}

absl::StatusOr<ServerProcess> ServerProcess::Start(
    const std::string& binary, std::vector<std::string> args,
    absl::Duration timeout) {
  const std::string dir = NewTempDir();
  const std::string log_path = dir + "/server.log";
  args.insert(args.begin(),
              {"--listen_address=127.0.0.1", "--grpc_port=0", "--http_port=0",
               "--metrics_port=0", "--health_port=0"});
  std::vector<char*> argv;
  std::string program = binary;
  argv.push_back(program.data());
  for (std::string& arg : args) argv.push_back(arg.data());
  argv.push_back(nullptr);

  pid_t pid = fork();
  if (pid < 0) return absl::InternalError("fork failed");
  if (pid == 0) {
    int fd = open(log_path.c_str(), O_WRONLY | O_CREAT | O_TRUNC, 0644);
    if (fd >= 0) {
      dup2(fd, STDERR_FILENO);
      close(fd);
    }
    execv(program.c_str(), argv.data());
    _exit(127);
  }
  ServerProcess process(pid, log_path);
  const absl::Time deadline = absl::Now() + timeout;
  while (absl::Now() < deadline) {
    std::istringstream lines(process.Log());
    std::string line;
    while (std::getline(lines, line)) {
      if (line.find("\"msg\":\"Serving\"") != std::string::npos) {
        process.ports_ = {
            JsonInt(line, "grpc_port"), JsonInt(line, "http_port"),
            JsonInt(line, "metrics_port"), JsonInt(line, "health_port")};
        return process;
      }
    }
    int status = 0;
    if (waitpid(pid, &status, WNOHANG) == pid) {
      process.pid_ = -1;
      return absl::FailedPreconditionError(
          absl::StrCat("geo_server exited during start (status ", status,
                       "):\n", process.Log()));
    }
    absl::SleepFor(absl::Milliseconds(20));
  }
  return absl::DeadlineExceededError(
      absl::StrCat("geo_server did not log Serving in time:\n", process.Log()));
}

ServerProcess::ServerProcess(ServerProcess&& other) noexcept
    : pid_(std::exchange(other.pid_, -1)),
      log_path_(std::move(other.log_path_)),
      ports_(other.ports_) {}

ServerProcess::~ServerProcess() {
  if (pid_ > 0) {
    kill(pid_, SIGKILL);
    waitpid(pid_, nullptr, 0);
  }
}

std::string ServerProcess::http_url(const std::string& path) const {
  return absl::StrCat("http://127.0.0.1:", ports_.http, path);
}

std::string ServerProcess::grpc_target() const {
  return absl::StrCat("127.0.0.1:", ports_.grpc);
}

std::string ServerProcess::health_url(const std::string& path) const {
  return absl::StrCat("http://127.0.0.1:", ports_.health, path);
}

std::string ServerProcess::metrics_url() const {
  return absl::StrCat("http://127.0.0.1:", ports_.metrics, "/metrics");
}

std::string ServerProcess::Log() const {
  std::ifstream in(log_path_);
  std::stringstream content;
  content << in.rdbuf();
  return content.str();
}

bool ServerProcess::WaitForLog(const std::string& text,
                               absl::Duration timeout) const {
  const absl::Time deadline = absl::Now() + timeout;
  while (absl::Now() < deadline) {
    if (Log().find(text) != std::string::npos) return true;
    absl::SleepFor(absl::Milliseconds(20));
  }
  return false;
}

void ServerProcess::SendSignal(int signal) const {
  if (pid_ > 0) kill(pid_, signal);
}

absl::StatusOr<int> ServerProcess::Wait(absl::Duration timeout) {
  if (pid_ <= 0) return absl::FailedPreconditionError("not running");
  const absl::Time deadline = absl::Now() + timeout;
  while (absl::Now() < deadline) {
    int status = 0;
    if (waitpid(pid_, &status, WNOHANG) == pid_) {
      pid_ = -1;
      if (WIFEXITED(status)) return WEXITSTATUS(status);
      return 128 + WTERMSIG(status);
    }
    absl::SleepFor(absl::Milliseconds(10));
  }
  return absl::DeadlineExceededError("geo_server did not exit in time");
}

absl::StatusOr<int> ServerProcess::Terminate(absl::Duration timeout) {
  SendSignal(SIGTERM);
  return Wait(timeout);
}

}  // namespace geo::testing
