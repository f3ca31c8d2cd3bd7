// GrpcGeoService in process over loopback: a real gRPC server and client,
// the real LookupService behind it. What the service hands LookupService:
// the caller's address (peer and forwarding metadata), the protocol, and,
// with mutual TLS, the verified client identity the policy decides on.
#include "geo/server/grpc_service.h"

#include <memory>
#include <string>
#include <utility>

#include "absl/strings/str_cat.h"
#include "absl/time/clock.h"
#include "api/geo/v1/geo.grpc.pb.h"
#include "geo/common/clock.h"
#include "geo/server/lookup_service.h"
#include "geo/server/lookup_service_harness.h"
#include "geo/server/server_tls.h"
#include "geo/tls/test_certificates.h"
#include "grpcpp/create_channel.h"
#include "grpcpp/security/credentials.h"
#include "grpcpp/server.h"
#include "grpcpp/server_builder.h"
#include "gtest/gtest.h"
#include "prometheus/registry.h"
#include "tests/support/metrics_text.h"
#include "tests/support/test_files.h"

namespace geo {
namespace {

using tls::testing::CertificateFiles;

// GB in MaxMind's City test database; the policy denies GB.
constexpr char kDeniedAddress[] = "81.2.69.142";

class GrpcGeoServiceTest : public ::testing::Test {
 protected:
  static void SetUpTestSuite() {
    grpc::EnableDefaultHealthCheckService(false);
    certificates_ = new tls::testing::TestCertificates();
    absl::StatusOr<tls::testing::TestCertificates> made =
        tls::testing::MakeTestCertificates(testing::NewTempDir());
    ASSERT_TRUE(made.ok()) << made.status();
    *certificates_ = *std::move(made);
  }
  static void TearDownTestSuite() {
    delete certificates_;
    certificates_ = nullptr;
  }

  // The loopback peer is a trusted proxy (127.0.0.0/8), for the forwarding
  // test.
  void SetUp() override {
    HarnessCallerTrust caller_trust;
    caller_trust.trusted_proxies = {"127.0.0.0/8"};
    caller_trust.client_ip_headers = {};
    auto harness = LookupServiceHarness::Create(
        testing::MaxmindTestDataFile("GeoIP2-City-Test.mmdb"),
        absl::StrCat("default_action: allow\n"
                     "deny: {countries: [GB]}\n"
                     "allow: {client_identities: [\"",
                     tls::testing::kIngressIdentity, "\"]}\n"),
        LookupService::Options(), std::move(caller_trust));
    ASSERT_TRUE(harness.ok()) << harness.status();
    harness_ = *std::move(harness);
  }

  void TearDown() override {
    if (server_ != nullptr) server_->Shutdown();
    server_tls_.reset();
  }

  // Serves on 127.0.0.1 over TLS requiring client certificates, or in
  // plaintext.
  void Start(bool mutual_tls, bool read_client_identity) {
    std::shared_ptr<grpc::ServerCredentials> credentials =
        grpc::InsecureServerCredentials();
    if (mutual_tls) {
      ServerTlsSettings settings;
      settings.tls.certificate_path = certificates_->server.certificate;
      settings.tls.private_key_path = certificates_->server.key;
      settings.tls.client_ca_path = certificates_->ca.certificate;
      settings.tls.client_certificates = tls::ClientCertificates::kRequire;
      absl::StatusOr<std::unique_ptr<ServerTls>> server_tls =
          ServerTls::Create(settings, tls_registry_, Clock::Real());
      ASSERT_TRUE(server_tls.ok()) << server_tls.status();
      server_tls_ = *std::move(server_tls);
      credentials = server_tls_->GrpcCredentials();
    }
    service_ = std::make_unique<GrpcGeoService>(harness_->service(),
                                                read_client_identity);
    grpc::ServerBuilder builder;
    builder.AddListeningPort("127.0.0.1:0", credentials, &port_);
    builder.RegisterService(service_.get());
    server_ = builder.BuildAndStart();
    ASSERT_NE(server_, nullptr);
  }

  std::unique_ptr<v1::GeoService::Stub> Stub(const CertificateFiles* client) {
    const std::string target = absl::StrCat("127.0.0.1:", port_);
    if (client == nullptr) {
      return v1::GeoService::NewStub(
          grpc::CreateChannel(target, grpc::InsecureChannelCredentials()));
    }
    grpc::SslCredentialsOptions ssl;
    ssl.pem_root_certs = *tls::testing::ReadFile(certificates_->ca.certificate);
    ssl.pem_cert_chain = *tls::testing::ReadFile(client->certificate);
    ssl.pem_private_key = *tls::testing::ReadFile(client->key);
    grpc::ChannelArguments arguments;
    arguments.SetSslTargetNameOverride("localhost");
    return v1::GeoService::NewStub(grpc::CreateCustomChannel(
        target, grpc::SslCredentials(ssl), arguments));
  }

  struct CheckResult {
    grpc::Status status;
    v1::CheckResponse response;
  };
  CheckResult Check(v1::GeoService::Stub& stub, const std::string& ip,
                    const std::string& forwarded_for = "") {
    grpc::ClientContext context;
    context.set_deadline(absl::ToChronoTime(absl::Now() + absl::Seconds(10)));
    if (!forwarded_for.empty()) {
      context.AddMetadata("x-forwarded-for", forwarded_for);
    }
    v1::CheckRequest request;
    request.set_ip(ip);
    CheckResult result;
    result.status = stub.Check(&context, request, &result.response);
    return result;
  }

  // Checks kDeniedAddress with `client`'s certificate: the policy's decision
  // and the rule that made it.
  void ExpectDecision(const CertificateFiles& client, bool allowed,
                      const std::string& rule) {
    const CheckResult result = Check(*Stub(&client), kDeniedAddress);
    ASSERT_TRUE(result.status.ok()) << result.status.error_message();
    EXPECT_EQ(result.response.allowed(), allowed) << client.certificate;
    EXPECT_EQ(result.response.rule(), rule) << client.certificate;
  }

  double Sample(const std::string& series) const {
    return testing::MetricSample(harness_->MetricsText(), series);
  }

  static tls::testing::TestCertificates* certificates_;
  std::unique_ptr<LookupServiceHarness> harness_;
  prometheus::Registry tls_registry_;
  std::unique_ptr<ServerTls> server_tls_;
  std::unique_ptr<GrpcGeoService> service_;
  std::unique_ptr<grpc::Server> server_;
  int port_ = 0;
};

tls::testing::TestCertificates* GrpcGeoServiceTest::certificates_ = nullptr;

TEST_F(GrpcGeoServiceTest, TheVerifiedIdentityReachesThePolicy) {
  Start(/*mutual_tls=*/true, /*read_client_identity=*/true);
  if (HasFatalFailure()) return;
  ExpectDecision(certificates_->client, /*allowed=*/true, "client_identity");
  ExpectDecision(certificates_->other_client, /*allowed=*/false, "country");
}

TEST_F(GrpcGeoServiceTest, WithoutReadingIdentitiesThePolicySeesNone) {
  Start(/*mutual_tls=*/true, /*read_client_identity=*/false);
  if (HasFatalFailure()) return;
  ExpectDecision(certificates_->client, /*allowed=*/false, "country");
}

TEST_F(GrpcGeoServiceTest, OriginIsThePeerOrItsForwardedClientOverGrpc) {
  Start(/*mutual_tls=*/false, /*read_client_identity=*/false);
  if (HasFatalFailure()) return;
  std::unique_ptr<v1::GeoService::Stub> stub = Stub(nullptr);
  const CheckResult peer = Check(*stub, "me");
  ASSERT_TRUE(peer.status.ok()) << peer.status.error_message();
  EXPECT_EQ(peer.response.ip(), "127.0.0.1");

  // The peer is a trusted proxy: its x-forwarded-for names the client.
  const CheckResult forwarded = Check(*stub, "me", kDeniedAddress);
  ASSERT_TRUE(forwarded.status.ok()) << forwarded.status.error_message();
  EXPECT_EQ(forwarded.response.ip(), kDeniedAddress);
  EXPECT_FALSE(forwarded.response.allowed());

  const CheckResult bad = Check(*stub, "not-an-address");
  EXPECT_EQ(bad.status.error_code(), grpc::StatusCode::INVALID_ARGUMENT);
  EXPECT_EQ(Sample("geofence_lookup_duration_seconds_count{method=\"Check\","
                   "protocol=\"grpc\"}"),
            3);
}

}  // namespace
}  // namespace geo
