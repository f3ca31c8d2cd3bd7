#include "tests/tls/tls_clients.h"

#include <atomic>
#include <chrono>
#include <optional>
#include <utility>

#include "absl/status/status.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "absl/strings/strip.h"
#include "absl/time/clock.h"
#include "geo/tls/certificate.h"
#include "grpc/grpc_security_constants.h"
#include "grpcpp/create_channel.h"
#include "grpcpp/security/credentials.h"
#include "tests/support/child_process.h"

namespace geo::tls::testing {
namespace {

std::atomic<int> channel_counter{0};

std::string Slurp(const std::string& path) {
  absl::StatusOr<std::string> text = ReadFile(path);
  return text.ok() ? *text : "";
}

// A test-relative time or a length of time, to the millisecond ("1.234s").
std::string Millis(absl::Duration duration) {
  return absl::FormatDuration(absl::Trunc(duration, absl::Milliseconds(1)));
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

TlsCallResult CallWithDeadline(
    const std::function<grpc::Status(grpc::ClientContext*)>& call) {
  grpc::ClientContext context;
  context.set_deadline(absl::ToChronoTime(absl::Now() + kPatience));
  TlsCallResult result;
  result.status = call(&context);
  if (result.status.ok()) result.serial = ServedSerial(context);
  return result;
}

CommandResult RunCommand(const std::vector<std::string>& argv,
                         absl::Duration timeout) {
  CommandResult result;
  absl::StatusOr<std::string> program = ::geo::testing::FindProgram(argv[0]);
  if (!program.ok()) {
    result.errors = program.status().ToString();
    return result;
  }
  ::geo::testing::ChildOptions options;
  options.argv = argv;
  options.argv[0] = *program;
  options.stop_grace = absl::ZeroDuration();
  absl::StatusOr<::geo::testing::ChildProcess> child =
      ::geo::testing::ChildProcess::Start(std::move(options));
  if (!child.ok()) {
    result.errors = child.status().ToString();
    return result;
  }
  const std::optional<int> exit_code = child->Wait(timeout);
  result.exit_code =
      exit_code.has_value() ? *exit_code : child->Stop(absl::ZeroDuration());
  result.output = child->Stdout();
  result.errors = child->Stderr();
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

CallLoad::CallLoad(int threads,
                   const std::function<Call(int thread)>& make_call) {
  for (int i = 0; i < threads; ++i) {
    threads_.emplace_back([this, i, call = make_call(i)] {
      while (!stop_.load()) {
        const absl::Time began = absl::Now();
        grpc::Status status = call();
        calls_.fetch_add(1);
        const bool failed = !status.ok();
        const size_t failures = Record(
            {i, began - started_, absl::Now() - began, std::move(status)});
        if (failed && failures > 100) return;
      }
    });
  }
}

CallLoad::~CallLoad() { Finish(); }

void CallLoad::Finish() {
  stop_.store(true);
  for (std::thread& thread : threads_) {
    if (thread.joinable()) thread.join();
  }
}

std::string CallLoad::Describe(const CallRecord& call) {
  return absl::StrCat(
      "thread ", call.thread, ", call from +", Millis(call.began), " to +",
      Millis(call.began + call.took), ": ",
      call.status.ok()
          ? "OK"
          : absl::StrCat(absl::StatusCodeToString(static_cast<absl::StatusCode>(
                             call.status.error_code())),
                         ": ", call.status.error_message()));
}

size_t CallLoad::Record(CallRecord call) {
  absl::MutexLock lock(&mu_);
  if (!slowest_.has_value() || call.took > slowest_->took) slowest_ = call;
  if (!call.status.ok()) failures_.push_back(std::move(call));
  return failures_.size();
}

std::vector<std::string> CallLoad::failures() const {
  absl::MutexLock lock(&mu_);
  std::vector<std::string> described;
  for (const CallRecord& call : failures_) described.push_back(Describe(call));
  return described;
}

std::string CallLoad::slowest_call() const {
  absl::MutexLock lock(&mu_);
  return slowest_.has_value() ? Describe(*slowest_) : "";
}

void Timeline::Note(absl::string_view event) {
  const absl::Duration at = absl::Now() - origin_;
  absl::MutexLock lock(&mu_);
  events_.push_back(absl::StrCat("+", Millis(at), " ", event));
}

std::string Timeline::ToString() const {
  absl::MutexLock lock(&mu_);
  return absl::StrJoin(events_, "\n");
}

SchedulingGaps::SchedulingGaps(absl::Time origin)
    : origin_(origin), thread_([this] {
        auto last = std::chrono::steady_clock::now();
        while (!stop_.load()) {
          absl::SleepFor(absl::Milliseconds(10));
          const auto now = std::chrono::steady_clock::now();
          const absl::Duration gap = absl::FromChrono(now - last);
          last = now;
          absl::MutexLock lock(&mu_);
          if (gap > longest_) {
            longest_ = gap;
            longest_from_ = absl::Now() - gap - origin_;
          }
        }
      }) {}

SchedulingGaps::~SchedulingGaps() {
  stop_.store(true);
  thread_.join();
}

std::string SchedulingGaps::Longest() const {
  absl::MutexLock lock(&mu_);
  return absl::StrCat("longest gap ", Millis(longest_), ", from +",
                      Millis(longest_from_));
}

}  // namespace geo::tls::testing
