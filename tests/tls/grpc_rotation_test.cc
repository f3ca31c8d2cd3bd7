// gRPC over TLS with gRPC's own TLS stack, in process: ServerTls's
// credentials on a real grpc::Server (its health service), real C++ clients
// with SslCredentials. Refusals (plaintext, wrong CA, no or untrusted client
// certificate, identity not allowed) and rotation under load: certificates
// swapped by a Kubernetes-style ..data symlink swap while clients call, with
// no failed call, new connections on the new serial, and bad sets refused
// while the old one keeps serving.
#include <memory>
#include <string>
#include <utility>
#include <vector>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "absl/time/clock.h"
#include "geo/server/server_tls.h"
#include "geo/tls/test_certificates.h"
#include "grpc/health/v1/health.grpc.pb.h"
#include "grpcpp/health_check_service_interface.h"
#include "grpcpp/server.h"
#include "grpcpp/server_builder.h"
#include "gtest/gtest.h"
#include "prometheus/registry.h"
#include "tests/tls/certificate_suite.h"
#include "tests/tls/secret_volume.h"
#include "tests/tls/tls_clients.h"

namespace geo {
namespace {

using grpc::health::v1::Health;
using grpc::health::v1::HealthCheckRequest;
using grpc::health::v1::HealthCheckResponse;
using tls::testing::CallLoad;
using tls::testing::SecretVolume;

using CallResult = tls::testing::TlsCallResult;

CallResult Check(const std::shared_ptr<grpc::Channel>& channel) {
  auto stub = Health::NewStub(channel);
  HealthCheckResponse response;
  return tls::testing::CallWithDeadline([&](grpc::ClientContext* context) {
    return stub->Check(context, HealthCheckRequest(), &response);
  });
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

class GrpcRotationTest : public tls::testing::CertificateSuite {
 protected:
  static void SetUpTestSuite() {
    grpc::EnableDefaultHealthCheckService(false);
    CertificateSuite::SetUpTestSuite();
  }

  void StartServer(tls::ClientCertificates mode,
                   std::vector<std::string> grpc_identities) {
    absl::StatusOr<std::unique_ptr<SecretVolume>> volume = NewServerVolume();
    ASSERT_TRUE(volume.ok()) << volume.status();
    volume_ = *std::move(volume);
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

  // A health Check on a connection of its own that trusts the suite's CA and
  // presents `client` when not null.
  CallResult CheckAs(const tls::testing::CertificateFiles* client) {
    return Check(tls::testing::TlsChannel(target(), ca(), client));
  }

  prometheus::Registry registry_;
  std::unique_ptr<SecretVolume> volume_;
  std::unique_ptr<ServerTls> server_tls_;
  ServingHealth health_;
  std::unique_ptr<grpc::Server> server_;
  int port_ = 0;
};

TEST_F(GrpcRotationTest, ServerTlsRefusesPlaintextAndAWrongCa) {
  StartServer(tls::ClientCertificates::kOff, {});
  if (HasFatalFailure()) return;
  CallResult secure = CheckAs(nullptr);
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
  CallResult allowed = CheckAs(&certificates_->client);
  EXPECT_TRUE(allowed.status.ok()) << allowed.status.error_message();
  EXPECT_EQ(CheckAs(nullptr).status.error_code(),
            grpc::StatusCode::UNAVAILABLE);
  EXPECT_EQ(CheckAs(&certificates_->untrusted_client).status.error_code(),
            grpc::StatusCode::UNAVAILABLE);
  CallResult other = CheckAs(&certificates_->other_client);
  EXPECT_EQ(other.status.error_code(), grpc::StatusCode::PERMISSION_DENIED)
      << other.status.error_message();
}

TEST_F(GrpcRotationTest, RequestModeServesAnonymousButNotListedClients) {
  StartServer(tls::ClientCertificates::kRequest, {});
  if (HasFatalFailure()) return;
  EXPECT_TRUE(CheckAs(nullptr).status.ok());
  EXPECT_TRUE(CheckAs(&certificates_->client).status.ok());
  EXPECT_EQ(CheckAs(&certificates_->untrusted_client).status.error_code(),
            grpc::StatusCode::UNAVAILABLE);
}

TEST_F(GrpcRotationTest, RotatesUnderLoadWithoutAFailedCall) {
  StartServer(tls::ClientCertificates::kRequire,
              {tls::testing::kIngressIdentity});
  if (HasFatalFailure()) return;
  // Two clients on one long-lived connection each (old connections must
  // keep working), two opening a new connection per call.
  CallLoad load(4, [&](int i) {
    std::shared_ptr<grpc::Channel> kept =
        tls::testing::TlsChannel(target(), ca(), &certificates_->client);
    return [&, i, kept] {
      return Check(i < 2 ? kept
                         : tls::testing::TlsChannel(target(), ca(),
                                                    &certificates_->client))
          .status;
    };
  });
  tls::testing::SchedulingGaps gaps(load.started());
  auto serving = [&](const std::string& serial) {
    CallResult fresh = CheckAs(&certificates_->client);
    return fresh.status.ok() && fresh.serial == serial;
  };
  std::string previous =
      *tls::testing::SerialOf(certificates_->server.certificate);
  for (int round = 0; round < 2; ++round) {
    absl::StatusOr<std::string> in_force =
        PublishRenewedServer(*volume_, absl::StrCat("grpc-renewed-", round));
    ASSERT_TRUE(in_force.ok()) << in_force.status();
    ASSERT_NE(*in_force, previous) << "a renewal has a serial of its own";
    previous = *in_force;
    EXPECT_TRUE(
        Eventually([&] { return serving(*in_force); }, tls::testing::kPatience))
        << "round " << round;
    // A bad pair dropped in: refused, the renewed one keeps serving.
    ASSERT_TRUE(volume_
                    ->Publish(certificates_->wrong_key_server,
                              certificates_->ca.certificate)
                    .ok());
    absl::SleepFor(absl::Milliseconds(300));
    CallResult after_bad = CheckAs(&certificates_->client);
    EXPECT_TRUE(after_bad.status.ok());
    EXPECT_EQ(after_bad.serial, *in_force);
  }
  load.Finish();
  EXPECT_GT(load.calls(), 0);
  const std::vector<std::string> failures = load.failures();
  EXPECT_TRUE(failures.empty())
      << failures.size() << " of " << load.calls() << " calls failed:\n"
      << absl::StrJoin(failures, "\n")
      << "\nslowest call: " << load.slowest_call() << "\nthis process's "
      << gaps.Longest();
}

}  // namespace
}  // namespace geo
