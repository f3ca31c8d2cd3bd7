#include "tests/support/server_process.h"

#include <signal.h>

#include <optional>
#include <utility>

#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_split.h"
#include "absl/time/clock.h"

namespace geo::testing {
namespace {

// The integer after "\"key\":" in a log line.
int JsonInt(absl::string_view line, const std::string& key) {
  const std::string needle = absl::StrCat("\"", key, "\":");
  size_t at = line.find(needle);
  if (at == absl::string_view::npos) return 0;
  at += needle.size();
  const size_t end = line.find_first_not_of("0123456789", at);
  int value = 0;
  if (!absl::SimpleAtoi(line.substr(at, end - at), &value)) return 0;
  return value;
}

}  // namespace

absl::StatusOr<ServerProcess> ServerProcess::Start(
    const std::string& binary, std::vector<std::string> args,
    absl::Duration timeout, const std::vector<std::string>& launcher) {
  ChildOptions options;
  options.argv = launcher;
  options.argv.insert(options.argv.end(),
                      {binary, "--listen_address=127.0.0.1", "--grpc_port=0",
                       "--http_port=0", "--metrics_port=0", "--health_port=0"});
  options.argv.insert(options.argv.end(), args.begin(), args.end());
  options.stop_grace = absl::ZeroDuration();
  absl::StatusOr<ChildProcess> child = ChildProcess::Start(std::move(options));
  if (!child.ok()) return child.status();
  ServerProcess server(*std::move(child));

  constexpr char kServing[] = "\"msg\":\"Serving\"";
  if (!server.process_.WaitForOutput(kServing, timeout)) {
    if (std::optional<int> code = server.process_.Wait(absl::ZeroDuration())) {
      return absl::FailedPreconditionError(
          absl::StrCat("geo_server exited during start (exit code ", *code,
                       "):\n", server.Log()));
    }
    return absl::DeadlineExceededError(absl::StrCat(
        "geo_server did not log Serving in time:\n", server.Log()));
  }
  for (absl::string_view line : absl::StrSplit(server.Log(), '\n')) {
    if (line.find(kServing) == absl::string_view::npos) continue;
    server.ports_ = {JsonInt(line, "grpc_port"), JsonInt(line, "http_port"),
                     JsonInt(line, "metrics_port"),
                     JsonInt(line, "health_port")};
    break;
  }
  return server;
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

std::string ServerProcess::Log() const { return process_.Stderr(); }

bool ServerProcess::WaitForLog(const std::string& text,
                               absl::Duration timeout) {
  return process_.WaitForOutput(text, timeout);
}

void ServerProcess::SendSignal(int signal) const { process_.Signal(signal); }

absl::StatusOr<int> ServerProcess::Wait(absl::Duration timeout) {
  if (std::optional<int> code = process_.Wait(timeout)) return *code;
  return absl::DeadlineExceededError("geo_server did not exit in time");
}

absl::StatusOr<int> ServerProcess::Terminate(absl::Duration timeout) {
  SendSignal(SIGTERM);
  return Wait(timeout);
}

}  // namespace geo::testing
