// gRPC over TLS with gRPC's own TLS stack, in process: ServerTls's
// credentials on a real grpc::Server (its health service), real C++ clients
// with SslCredentials. Refusals (plaintext, wrong CA, no or untrusted client
// certificate, identity not allowed) and rotation under load: certificates
// swapped by a Kubernetes-style ..data symlink swap while clients call, with
// no failed call, new connections on the new serial, and bad sets refused
// while the old one keeps serving.
#include <atomic>
#include <cstdlib>
#include <filesystem>
#include <memory>
#include <string>
#include <thread>
#include <vector>

#include "absl/strings/str_cat.h"
#include "absl/synchronization/mutex.h"
#include "absl/time/clock.h"
#include "geo/server/server_tls.h"
#include "geo/tls/test_certificates.h"
#include "grpc/health/v1/health.grpc.pb.h"
#include "grpcpp/health_check_service_interface.h"
#include "grpcpp/server.h"
#include "grpcpp/server_builder.h"
#include "gtest/gtest.h"
#include "prometheus/registry.h"
#include "tests/tls/secret_volume.h"
#include "tests/tls/tls_clients.h"

namespace geo {
namespace {

using grpc::health::v1::Health;
using grpc::health::v1::HealthCheckRequest;
using grpc::health::v1::HealthCheckResponse;
using tls::testing::CertificateFiles;
using tls::testing::SecretVolume;
using tls::testing::TestCertificates;

struct CallResult {
  grpc::Status status;
  std::string serial;
};

CallResult Check(const std::shared_ptr<grpc::Channel>& channel) {
  auto stub = Health::NewStub(channel);
  grpc::ClientContext context;
  context.set_deadline(absl::ToChronoTime(absl::Now() + absl::Seconds(10)));
  HealthCheckRequest request;
  HealthCheckResponse response;
  CallResult result;
  result.status = stub->Check(&context, request, &response);
  if (result.status.ok()) {
    result.serial = tls::testing::ServedSerial(context);
  }
  return result;
}

// The health service answering SERVING: enough of a service to call.
class ServingHealth final : public Health::CallbackService {
  grpc::ServerUnaryReactor* Check(grpc::CallbackServerContext* context,
                                  const HealthCheckRequest*,
                                  HealthCheckResponse* response) override {
    response->set_status(HealthCheckResponse::SERVING);
    grpc::ServerUnaryReactor* reactor = context->DefaultReactor();
    reactor->Finish(grpc::Status::OK);
    return reactor;
  }
};

class GrpcRotationTest : public ::testing::Test {
 protected:
  static void SetUpTestSuite() {
    grpc::EnableDefaultHealthCheckService(false);
    const char* tmp = std::getenv("TEST_TMPDIR");
    root_ = new std::string(
        absl::StrCat(tmp != nullptr ? tmp : "/tmp", "/grpc_rotation"));
    absl::StatusOr<TestCertificates> made =
        tls::testing::MakeTestCertificates(*root_ + "/certificates");
    ASSERT_TRUE(made.ok()) << made.status();
    certificates_ = new TestCertificates(*std::move(made));
  }
  static void TearDownTestSuite() {
    delete certificates_;
    delete root_;
  }

  void StartServer(tls::ClientCertificates mode,
                   std::vector<std::string> grpc_identities) {
    volume_ = std::make_unique<SecretVolume>(absl::StrCat(
        *root_, "/volume-",
        ::testing::UnitTest::GetInstance()->current_test_info()->name()));
    ASSERT_TRUE(
        volume_->Publish(certificates_->server, certificates_->ca.certificate)
            .ok());
    ServerTlsSettings settings;
    settings.tls.certificate_path = volume_->certificate();
    settings.tls.private_key_path = volume_->key();
    if (mode != tls::ClientCertificates::kOff) {
      settings.tls.client_ca_path = volume_->ca();
    }
    settings.tls.client_certificates = mode;
    settings.grpc_client_identities = std::move(grpc_identities);
    absl::StatusOr<std::unique_ptr<ServerTls>> server_tls =
        ServerTls::Create(settings, registry_, Clock::Real());
    ASSERT_TRUE(server_tls.ok()) << server_tls.status();
    server_tls_ = *std::move(server_tls);
    grpc::ServerBuilder builder;
    builder.AddListeningPort("127.0.0.1:0", server_tls_->GrpcCredentials(),
                             &port_);
    builder.RegisterService(&health_);
    server_ = builder.BuildAndStart();
    ASSERT_NE(server_, nullptr);
    server_tls_->StartWatching(absl::Milliseconds(20), Clock::Real());
  }

  void TearDown() override {
    if (server_ != nullptr) server_->Shutdown();
    server_tls_.reset();
  }

  std::string target() const { return absl::StrCat("127.0.0.1:", port_); }
  std::string ca() const { return certificates_->ca.certificate; }

  static std::string* root_;
  static TestCertificates* certificates_;
  prometheus::Registry registry_;
  std::unique_ptr<SecretVolume> volume_;
  std::unique_ptr<ServerTls> server_tls_;
  ServingHealth health_;
  std::unique_ptr<grpc::Server> server_;
  int port_ = 0;
};

std::string* GrpcRotationTest::root_ = nullptr;
TestCertificates* GrpcRotationTest::certificates_ = nullptr;

TEST_F(GrpcRotationTest, ServerTlsRefusesPlaintextAndAWrongCa) {
  StartServer(tls::ClientCertificates::kOff, {});
  if (HasFatalFailure()) return;
  CallResult secure = Check(tls::testing::TlsChannel(target(), ca(), nullptr));
  ASSERT_TRUE(secure.status.ok()) << secure.status.error_message();
  EXPECT_EQ(secure.serial,
            *tls::testing::SerialOf(certificates_->server.certificate));
  EXPECT_EQ(Check(tls::testing::PlaintextChannel(target())).status.error_code(),
            grpc::StatusCode::UNAVAILABLE);
  EXPECT_EQ(Check(tls::testing::TlsChannel(
                      target(), certificates_->other_ca.certificate, nullptr))
                .status.error_code(),
            grpc::StatusCode::UNAVAILABLE);
}

TEST_F(GrpcRotationTest, MutualTlsRequiresATrustedClientOnTheAllowList) {
  StartServer(tls::ClientCertificates::kRequire,
              {tls::testing::kIngressIdentity});
  if (HasFatalFailure()) return;
  CallResult allowed =
      Check(tls::testing::TlsChannel(target(), ca(), &certificates_->client));
  EXPECT_TRUE(allowed.status.ok()) << allowed.status.error_message();
  EXPECT_EQ(Check(tls::testing::TlsChannel(target(), ca(), nullptr))
                .status.error_code(),
            grpc::StatusCode::UNAVAILABLE);
  EXPECT_EQ(Check(tls::testing::TlsChannel(target(), ca(),
                                           &certificates_->untrusted_client))
                .status.error_code(),
            grpc::StatusCode::UNAVAILABLE);
  CallResult other = Check(
      tls::testing::TlsChannel(target(), ca(), &certificates_->other_client));
  EXPECT_EQ(other.status.error_code(), grpc::StatusCode::PERMISSION_DENIED)
      << other.status.error_message();
}

TEST_F(GrpcRotationTest, RequestModeServesAnonymousButNotListedClients) {
  StartServer(tls::ClientCertificates::kRequest, {});
  if (HasFatalFailure()) return;
  EXPECT_TRUE(
      Check(tls::testing::TlsChannel(target(), ca(), nullptr)).status.ok());
  EXPECT_TRUE(
      Check(tls::testing::TlsChannel(target(), ca(), &certificates_->client))
          .status.ok());
  EXPECT_EQ(Check(tls::testing::TlsChannel(target(), ca(),
                                           &certificates_->untrusted_client))
                .status.error_code(),
            grpc::StatusCode::UNAVAILABLE);
}

TEST_F(GrpcRotationTest, RotatesUnderLoadWithoutAFailedCall) {
  StartServer(tls::ClientCertificates::kRequire,
              {tls::testing::kIngressIdentity});
  if (HasFatalFailure()) return;
  const std::string first =
      *tls::testing::SerialOf(certificates_->server.certificate);
  std::atomic<bool> stop{false};
  std::atomic<int> calls{0};
  absl::Mutex mu;
  std::vector<std::string> failures;
  std::vector<std::thread> clients;
  // Two clients on one long-lived connection each (old connections must
  // keep working), two opening a new connection per call.
  for (int i = 0; i < 4; ++i) {
    clients.emplace_back([&, i] {
      std::shared_ptr<grpc::Channel> kept =
          tls::testing::TlsChannel(target(), ca(), &certificates_->client);
      while (!stop.load()) {
        CallResult result =
            Check(i < 2 ? kept
                        : tls::testing::TlsChannel(target(), ca(),
                                                   &certificates_->client));
        calls.fetch_add(1);
        if (!result.status.ok()) {
          absl::MutexLock lock(&mu);
          failures.push_back(result.status.error_message());
          if (failures.size() > 100) return;
        }
      }
    });
  }
  auto wait_for_serial = [&](const std::string& serial) {
    const absl::Time deadline = absl::Now() + absl::Seconds(30);
    while (absl::Now() < deadline) {
      CallResult fresh = Check(
          tls::testing::TlsChannel(target(), ca(), &certificates_->client));
      if (fresh.status.ok() && fresh.serial == serial) return true;
      absl::SleepFor(absl::Milliseconds(50));
    }
    return false;
  };
  std::string in_force = first;
  for (int round = 0; round < 2; ++round) {
    absl::StatusOr<CertificateFiles> renewed =
        tls::testing::IssueServerCertificate(
            certificates_->ca, certificates_->directory,
            absl::StrCat("grpc-renewed-", round));
    ASSERT_TRUE(renewed.ok()) << renewed.status();
    ASSERT_TRUE(volume_->Publish(*renewed, certificates_->ca.certificate).ok());
    in_force = *tls::testing::SerialOf(renewed->certificate);
    EXPECT_TRUE(wait_for_serial(in_force)) << "round " << round;
    // A bad pair dropped in: refused, the renewed one keeps serving.
    ASSERT_TRUE(volume_
                    ->Publish(certificates_->wrong_key_server,
                              certificates_->ca.certificate)
                    .ok());
    absl::SleepFor(absl::Milliseconds(300));
    CallResult after_bad =
        Check(tls::testing::TlsChannel(target(), ca(), &certificates_->client));
    EXPECT_TRUE(after_bad.status.ok());
    EXPECT_EQ(after_bad.serial, in_force);
  }
  stop.store(true);
  for (std::thread& client : clients) client.join();
  EXPECT_GT(calls.load(), 0);
  absl::MutexLock lock(&mu);
  EXPECT_TRUE(failures.empty())
      << failures.size() << " failed calls, first: " << failures.front();
}

}  // namespace
}  // namespace geo
