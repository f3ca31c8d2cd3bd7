// The verified client identity in policies, end to end: the real geo_server
// with mutual TLS required and a policy that allows one SPIFFE namespace
// whatever the address, over curl (Check and forward-auth) and gRPC C++ with
// SslCredentials (Check). A trusted identity is allowed for an address the
// geo rules deny; another identity gets the geo decision; at debug level the
// decision log line names the identity. Also: the client_identities
// example of docs/policy.md loads and decides as the page says.
#include <map>
#include <memory>
#include <string>
#include <vector>

#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_split.h"
#include "absl/time/clock.h"
#include "api/geo/v1/geo.grpc.pb.h"
#include "geo/common/ip_address.h"
#include "geo/policy/policy.h"
#include "geo/policy/policy_parser.h"
#include "geo/tls/peer_identity.h"
#include "geo/tls/test_certificates.h"
#include "gtest/gtest.h"
#include "tests/docs/markdown.h"
#include "tests/support/server_process.h"
#include "tests/support/test_files.h"
#include "tests/tls/certificate_suite.h"
#include "tests/tls/tls_clients.h"

namespace geo {
namespace {

using tls::testing::CertificateFiles;
using tls::testing::Curl;
using tls::testing::CurlResult;

// GB in MaxMind's City test database, denied by the policy's country rule.
constexpr char kDeniedAddress[] = "81.2.69.142";

class ClientIdentityPolicyE2eTest : public tls::testing::GeoServerTlsSuite {
 protected:
  void SetUp() override {
    // The client certificate's identity is kIngressIdentity, under
    // spiffe://geo.test/ns/edge/; other_client's is in another namespace.
    const std::string policy = absl::StrCat(testing::NewTempDir(), "/p.yaml");
    ASSERT_TRUE(testing::WriteFile(policy,
                                   "default_action: allow\n"
                                   "deny:\n"
                                   "  countries: [GB]\n"
                                   "allow:\n"
                                   "  client_identities:\n"
                                   "    - \"spiffe://geo.test/ns/edge/*\"\n"));
    StartGeoServer({"--policy=" + policy, "--log_level=debug",
                    "--trusted_proxies=127.0.0.0/8", "--drain_delay=0s"});
  }

  CurlResult HttpsAs(const CertificateFiles& client, const std::string& path,
                     std::vector<std::string> extra = {}) {
    std::vector<std::string> arguments = ClientArguments(client);
    arguments.insert(arguments.end(), extra.begin(), extra.end());
    return Curl(HttpsUrl(path), arguments);
  }

  // GET /v1/check/kDeniedAddress as `client`: 200, and a decision that
  // `allowed` the address by `rule`.
  void ExpectHttpCheckAs(const CertificateFiles& client, bool allowed,
                         const std::string& rule) {
    const CurlResult result =
        HttpsAs(client, absl::StrCat("/v1/check/", kDeniedAddress));
    EXPECT_EQ(result.status, 200) << result.errors;
    EXPECT_TRUE(absl::StrContains(
        result.body, absl::StrCat("\"allowed\":", allowed ? "true" : "false")))
        << result.body;
    EXPECT_TRUE(
        absl::StrContains(result.body, absl::StrCat("\"rule\":\"", rule, "\"")))
        << result.body;
  }

  struct GrpcCheck {
    grpc::Status status;
    v1::CheckResponse response;
  };
  GrpcCheck GrpcCheckAs(const CertificateFiles& client) {
    auto stub = v1::GeoService::NewStub(
        tls::testing::TlsChannel(server_->grpc_target(), ca(), &client));
    v1::CheckRequest request;
    request.set_ip(kDeniedAddress);
    GrpcCheck result;
    result.status =
        tls::testing::CallWithDeadline([&](grpc::ClientContext* context) {
          return stub->Check(context, request, &result.response);
        }).status;
    return result;
  }

  // The server's "Geofence decision" lines that name `identity`.
  int DecisionLinesNaming(const std::string& identity) const {
    int count = 0;
    for (absl::string_view line : absl::StrSplit(server_->Log(), '\n')) {
      if (absl::StrContains(line, "Geofence decision") &&
          absl::StrContains(
              line, absl::StrCat("\"client_identity\":\"", identity, "\""))) {
        ++count;
      }
    }
    return count;
  }

  // The trusted and the other client each asked once: one decision line
  // names each identity.
  void ExpectOneDecisionLinePerIdentity() {
    EXPECT_TRUE(server_->WaitForLog("Geofence decision", absl::Seconds(10)));
    for (const char* identity :
         {tls::testing::kIngressIdentity, tls::testing::kOtherIdentity}) {
      EXPECT_EQ(DecisionLinesNaming(identity), 1) << identity << "\n"
                                                  << server_->Log();
    }
  }
};

TEST_F(ClientIdentityPolicyE2eTest, HttpCheckWithCurl) {
  ExpectHttpCheckAs(certificates_->client, /*allowed=*/true, "client_identity");
  ExpectHttpCheckAs(certificates_->other_client, /*allowed=*/false, "country");
  ExpectOneDecisionLinePerIdentity();
}

TEST_F(ClientIdentityPolicyE2eTest, ForwardAuthWithCurl) {
  const std::vector<std::string> from_denied_address = {
      "-H", absl::StrCat("X-Forwarded-For: ", kDeniedAddress)};
  const CurlResult trusted =
      HttpsAs(certificates_->client, "/v1/authorize", from_denied_address);
  EXPECT_EQ(trusted.status, 200) << trusted.errors << trusted.body;
  const CurlResult other = HttpsAs(certificates_->other_client, "/v1/authorize",
                                   from_denied_address);
  EXPECT_EQ(other.status, 403) << other.errors << other.body;
  EXPECT_TRUE(absl::StrContains(other.body, "\"policy\":\"default\""))
      << other.body;
}

TEST_F(ClientIdentityPolicyE2eTest, GrpcCheckWithSslCredentials) {
  const GrpcCheck trusted = GrpcCheckAs(certificates_->client);
  ASSERT_TRUE(trusted.status.ok()) << trusted.status.error_message();
  EXPECT_TRUE(trusted.response.allowed());
  EXPECT_EQ(trusted.response.rule(), "client_identity");
  EXPECT_EQ(trusted.response.country_code(), "GB");

  const GrpcCheck other = GrpcCheckAs(certificates_->other_client);
  ASSERT_TRUE(other.status.ok()) << other.status.error_message();
  EXPECT_FALSE(other.response.allowed());
  EXPECT_EQ(other.response.rule(), "country");

  ExpectOneDecisionLinePerIdentity();
}

// The fenced block after docs/policy.md's "<!-- policy-example -->" marker
// in the Client identities section.
TEST(ClientIdentityPolicyDocsTest, ExampleLoadsAndDecidesAsDocumented) {
  absl::StatusOr<std::string> page = tls::testing::ReadFile("docs/policy.md");
  ASSERT_TRUE(page.ok()) << page.status();
  const docs::MarkdownDocument document(*page);
  const docs::Heading* heading = document.FindHeading("client-identities");
  ASSERT_NE(heading, nullptr);
  const auto [begin, end] = document.SectionRange(*heading);
  std::string example;
  for (int line = begin; line < end && example.empty(); ++line) {
    std::map<std::string, std::string> attributes;
    if (!docs::ParseMarker(document.lines()[line], "policy-example",
                           &attributes)) {
      continue;
    }
    const std::vector<const docs::FencedBlock*> blocks =
        document.BlocksIn(line + 1, end);
    ASSERT_FALSE(blocks.empty());
    EXPECT_EQ(blocks.front()->info, "yaml");
    example = blocks.front()->content;
  }
  ASSERT_FALSE(example.empty()) << "no policy-example block";
  absl::StatusOr<policy::ParsedPolicyConfig> parsed =
      policy::ParsePolicyConfig(example, policy::PolicyFormat::kYaml);
  ASSERT_TRUE(parsed.ok()) << parsed.status();
  absl::StatusOr<std::shared_ptr<const policy::Policy>> created =
      policy::Policy::Create(parsed->config, parsed->lines);
  ASSERT_TRUE(created.ok()) << created.status();

  // A caller in a denied country: the payments namespace and the named DNS
  // client pass, the sandbox namespace and a caller without a certificate
  // do not.
  const auto decide = [&](const tls::PeerIdentity* identity) {
    policy::PolicyInput input;
    input.ip = *IpAddress::Parse("175.45.176.1");
    input.found = true;
    input.country_iso_code = "KP";
    input.client_identity = identity;
    return (*created)->Evaluate(input);
  };
  tls::PeerIdentity payments;
  payments.uris = {"spiffe://cluster.local/ns/payments/sa/api"};
  tls::PeerIdentity reporting;
  reporting.dns_names = {"reporting.internal"};
  tls::PeerIdentity sandbox;
  sandbox.uris = {"spiffe://cluster.local/ns/sandbox/sa/api"};
  EXPECT_TRUE(decide(&payments).allowed);
  EXPECT_EQ(decide(&payments).rule, policy::RuleKind::kClientIdentity);
  EXPECT_TRUE(decide(&reporting).allowed);
  EXPECT_FALSE(decide(&sandbox).allowed);
  EXPECT_EQ(decide(&sandbox).rule, policy::RuleKind::kClientIdentity);
  EXPECT_FALSE(decide(nullptr).allowed);
  EXPECT_EQ(decide(nullptr).rule, policy::RuleKind::kCountry);
}

}  // namespace
}  // namespace geo
