#include "tests/tls/tls_clients.h"

#include <fcntl.h>
#include <signal.h>
#include <spawn.h>
#include <sys/wait.h>
#include <unistd.h>

#include <atomic>
#include <cstdio>
#include <cstdlib>

#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/strip.h"
#include "absl/time/clock.h"
#include "geo/tls/certificate.h"
#include "grpc/grpc_security_constants.h"
#include "grpcpp/create_channel.h"
#include "grpcpp/security/credentials.h"

extern char** environ;

namespace geo::tls::testing {
namespace {

std::atomic<int> channel_counter{0};

std::string TempPath(const std::string& what) {
  const char* tmp = std::getenv("TEST_TMPDIR");
  static std::atomic<int> counter{0};
  return absl::StrCat(tmp != nullptr ? tmp : "/tmp", "/", what, "-", getpid(),
                      "-", counter.fetch_add(1));
}

std::string Slurp(const std::string& path) {
  absl::StatusOr<std::string> text = ReadFile(path);
  return text.ok() ? *text : "";
}

}  // namespace

std::shared_ptr<grpc::Channel> TlsChannel(const std::string& target,
                                          const std::string& ca_path,
                                          const CertificateFiles* client) {
  grpc::SslCredentialsOptions ssl;
  ssl.pem_root_certs = Slurp(ca_path);
  if (client != nullptr) {
    ssl.pem_cert_chain = Slurp(client->certificate);
    ssl.pem_private_key = Slurp(client->key);
  }
  grpc::ChannelArguments arguments;
  arguments.SetSslTargetNameOverride("localhost");
  arguments.SetInt("geo.test.connection", channel_counter.fetch_add(1));
  return grpc::CreateCustomChannel(target, grpc::SslCredentials(ssl),
                                   arguments);
}

std::shared_ptr<grpc::Channel> PlaintextChannel(const std::string& target) {
  grpc::ChannelArguments arguments;
  arguments.SetInt("geo.test.connection", channel_counter.fetch_add(1));
  return grpc::CreateCustomChannel(target, grpc::InsecureChannelCredentials(),
                                   arguments);
}

std::string ServedSerial(const grpc::ClientContext& context) {
  std::shared_ptr<const grpc::AuthContext> auth = context.auth_context();
  if (auth == nullptr) return "";
  std::vector<grpc::string_ref> pem =
      auth->FindPropertyValues(GRPC_X509_PEM_CERT_PROPERTY_NAME);
  if (pem.empty()) return "";
  absl::StatusOr<std::vector<X509Ptr>> certificates = ParseCertificates(
      absl::string_view(pem.front().data(), pem.front().size()));
  if (!certificates.ok()) return "";
  return Summarize(certificates->front().get()).serial;
}

CommandResult RunCommand(const std::vector<std::string>& argv,
                         absl::Duration timeout) {
  CommandResult result;
  const std::string out_path = TempPath("stdout");
  const std::string err_path = TempPath("stderr");
  std::vector<std::string> copies = argv;
  std::vector<char*> pointers;
  for (std::string& argument : copies) pointers.push_back(argument.data());
  pointers.push_back(nullptr);
  posix_spawn_file_actions_t actions;
  posix_spawn_file_actions_init(&actions);
  posix_spawn_file_actions_addopen(&actions, 0, "/dev/null", O_RDONLY, 0);
  posix_spawn_file_actions_addopen(&actions, 1, out_path.c_str(),
                                   O_WRONLY | O_CREAT | O_TRUNC, 0600);
  posix_spawn_file_actions_addopen(&actions, 2, err_path.c_str(),
                                   O_WRONLY | O_CREAT | O_TRUNC, 0600);
  pid_t pid = -1;
  const int spawned = posix_spawnp(&pid, pointers[0], &actions, nullptr,
                                   pointers.data(), environ);
  posix_spawn_file_actions_destroy(&actions);
  if (spawned != 0) {
    result.errors = absl::StrCat("cannot run ", argv[0]);
    return result;
  }
  const absl::Time deadline = absl::Now() + timeout;
  int status = 0;
  while (true) {
    const pid_t done = waitpid(pid, &status, WNOHANG);
    if (done == pid) break;
    if (absl::Now() > deadline) {
      kill(pid, SIGKILL);
      waitpid(pid, &status, 0);
      break;
    }
    absl::SleepFor(absl::Milliseconds(2));
  }
  result.exit_code = WIFEXITED(status) ? WEXITSTATUS(status) : 128;
  result.output = Slurp(out_path);
  result.errors = Slurp(err_path);
  unlink(out_path.c_str());
  unlink(err_path.c_str());
  return result;
}

CurlResult Curl(const std::string& url,
                const std::vector<std::string>& arguments) {
  std::vector<std::string> argv = {"curl",          "--silent", "--show-error",
                                   "--max-time",    "20",       "--write-out",
                                   "\n%{http_code}"};
  argv.insert(argv.end(), arguments.begin(), arguments.end());
  argv.push_back(url);
  CommandResult run = RunCommand(argv);
  CurlResult result;
  result.exit_code = run.exit_code;
  result.errors = run.errors;
  const size_t newline = run.output.rfind('\n');
  if (newline != std::string::npos) {
    result.body = run.output.substr(0, newline);
    if (!absl::SimpleAtoi(run.output.substr(newline + 1), &result.status)) {
      result.status = 0;
    }
  }
  return result;
}

absl::StatusOr<std::string> ServedSerialOverTls(
    int port, const std::string& ca_path, const CertificateFiles* client) {
  std::vector<std::string> argv = {"openssl",
                                   "s_client",
                                   "-connect",
                                   absl::StrCat("127.0.0.1:", port),
                                   "-servername",
                                   "localhost",
                                   "-CAfile",
                                   ca_path,
                                   "-verify_return_error",
                                   "-showcerts"};
  if (client != nullptr) {
    argv.insert(argv.end(),
                {"-cert", client->certificate, "-key", client->key});
  }
  CommandResult connect = RunCommand(argv);
  // s_client prints the chain; the first block is the leaf.
  const size_t begin = connect.output.find("-----BEGIN CERTIFICATE-----");
  if (begin == std::string::npos) {
    return absl::UnavailableError(
        absl::StrCat("openssl s_client: no certificate: ", connect.errors));
  }
  absl::StatusOr<std::vector<X509Ptr>> certificates =
      ParseCertificates(connect.output.substr(begin));
  if (!certificates.ok()) return certificates.status();
  return Summarize(certificates->front().get()).serial;
}

}  // namespace geo::tls::testing
