// ServerTls::Create's settings check, the server's only check of its TLS
// settings: settings that do not fit together are refused before any file is
// read, TLS on or off, so a half-configured listener never starts in
// plaintext.
#include "geo/server/server_tls.h"

#include <memory>
#include <string>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "geo/common/clock.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "prometheus/registry.h"

namespace geo {
namespace {

using ::testing::HasSubstr;
using tls::ClientCertificates;

TEST(ServerTlsTest, NoSettingsIsTlsOff) {
  prometheus::Registry registry;
  absl::StatusOr<std::unique_ptr<ServerTls>> server_tls =
      ServerTls::Create(ServerTlsSettings(), registry, Clock::Real());
  ASSERT_TRUE(server_tls.ok()) << server_tls.status();
  EXPECT_EQ(*server_tls, nullptr);
}

TEST(ServerTlsTest, RefusesSettingsThatDoNotFitTogether) {
  struct Case {
    std::string name;
    std::string certificate;
    std::string key;
    std::string client_ca;
    ClientCertificates client_certificates;
    std::vector<std::string> grpc_identities;
    bool metrics_tls;
    std::string error;
  };
  const std::vector<Case> cases = {
      {"key without its certificate",
       "",
       "k.pem",
       "",
       ClientCertificates::kOff,
       {},
       false,
       "go together"},
      {"certificate without its key",
       "c.pem",
       "",
       "",
       ClientCertificates::kOff,
       {},
       false,
       "go together"},
      {"client CA bundle without TLS",
       "",
       "",
       "ca.pem",
       ClientCertificates::kOff,
       {},
       false,
       "client certificates need TLS"},
      {"client certificates without TLS",
       "",
       "",
       "",
       ClientCertificates::kRequest,
       {},
       false,
       "client certificates need TLS"},
      {"client certificates without a CA bundle",
       "c.pem",
       "k.pem",
       "",
       ClientCertificates::kRequire,
       {},
       false,
       "\"require\" need a client CA bundle file"},
      {"allow-list without TLS",
       "",
       "",
       "",
       ClientCertificates::kOff,
       {"spiffe://cluster.local/ns/web/sa/frontend"},
       false,
       "allow-lists and metrics TLS need TLS"},
      {"metrics TLS without TLS",
       "",
       "",
       "",
       ClientCertificates::kOff,
       {},
       true,
       "allow-lists and metrics TLS need TLS"},
      {"allow-list without client certificates",
       "c.pem",
       "k.pem",
       "",
       ClientCertificates::kOff,
       {"spiffe://cluster.local/ns/web/sa/frontend"},
       false,
       "allow-lists need client certificates"},
  };
  for (const Case& c : cases) {
    SCOPED_TRACE(c.name);
    ServerTlsSettings settings;
    settings.tls.certificate_path = c.certificate;
    settings.tls.private_key_path = c.key;
    settings.tls.client_ca_path = c.client_ca;
    settings.tls.client_certificates = c.client_certificates;
    settings.grpc_client_identities = c.grpc_identities;
    settings.metrics_tls = c.metrics_tls;
    prometheus::Registry registry;
    absl::StatusOr<std::unique_ptr<ServerTls>> server_tls =
        ServerTls::Create(settings, registry, Clock::Real());
    EXPECT_EQ(server_tls.status().code(), absl::StatusCode::kInvalidArgument)
        << server_tls.status();
    EXPECT_THAT(server_tls.status().message(), HasSubstr(c.error));
  }
}

}  // namespace
}  // namespace geo
