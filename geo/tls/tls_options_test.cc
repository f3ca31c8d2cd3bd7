#include "geo/tls/tls_options.h"

#include <string>
#include <vector>

#include "absl/strings/str_join.h"
#include "geo/common/settings.h"
#include "geo/tls/tls_settings_testing.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"

namespace geo::tls {
namespace {

using ::testing::ElementsAre;
using ::testing::HasSubstr;

TEST(TlsOptionsTest, ValidateAcceptsCompleteSetsAndNamesWhatIsMissing) {
  constexpr ClientCertificates kOff = ClientCertificates::kOff;
  constexpr ClientCertificates kRequest = ClientCertificates::kRequest;
  constexpr ClientCertificates kRequire = ClientCertificates::kRequire;
  const struct {
    const char* name;
    const char* certificate;
    const char* private_key;
    const char* client_ca;
    ClientCertificates client_certificates;
    // Empty: valid.
    const char* error;
  } kCases[] = {
      {"plaintext", "", "", "", kOff, ""},
      {"certificate and key", "c.pem", "k.pem", "", kOff, ""},
      {"client certificates required with a CA", "c.pem", "k.pem", "ca.pem",
       kRequire, ""},
      {"a CA without asking for client certificates", "c.pem", "k.pem",
       "ca.pem", kOff, ""},
      {"certificate without its key", "c.pem", "", "", kOff, "go together"},
      {"key without its certificate", "", "k.pem", "", kOff, "go together"},
      {"client CA without TLS", "", "", "ca.pem", kOff, "need TLS"},
      {"client certificates without TLS", "", "", "", kRequest, "need TLS"},
      {"client certificates required without a CA", "c.pem", "k.pem", "",
       kRequire, "\"require\" need a client CA bundle file"},
      {"client certificates requested without a CA", "c.pem", "k.pem", "",
       kRequest, "\"request\" need a client CA bundle file"},
  };
  for (const auto& test_case : kCases) {
    SCOPED_TRACE(test_case.name);
    TlsOptions options;
    options.certificate_path = test_case.certificate;
    options.private_key_path = test_case.private_key;
    options.client_ca_path = test_case.client_ca;
    options.client_certificates = test_case.client_certificates;
    const absl::Status status = options.Validate();
    if (std::string(test_case.error).empty()) {
      EXPECT_TRUE(status.ok()) << status;
    } else {
      EXPECT_TRUE(absl::IsInvalidArgument(status)) << status;
      EXPECT_THAT(std::string(status.message()), HasSubstr(test_case.error));
    }
  }
}

TEST(TlsOptionsTest, ModesAndVersionsParseTheirNames) {
  for (const ClientCertificates mode :
       {ClientCertificates::kOff, ClientCertificates::kRequest,
        ClientCertificates::kRequire}) {
    EXPECT_EQ(ParseClientCertificates(ClientCertificatesName(mode)).value(),
              mode);
  }
  for (const TlsVersion version : {TlsVersion::kTls12, TlsVersion::kTls13}) {
    EXPECT_EQ(ParseTlsVersion(TlsVersionName(version)).value(), version);
  }
  EXPECT_THAT(
      std::string(ParseClientCertificates("optional").status().message()),
      HasSubstr("\"optional\""));
  EXPECT_THAT(std::string(ParseTlsVersion("1.1").status().message()),
              HasSubstr("1.2 or 1.3"));
}

// A binary with one listener: its own rows around the shared TLS rows.
struct ListenerOptions {
  int port = 0;
  TlsOptions tls;
  bool verbose = false;
};

const settings::SettingsTable<ListenerOptions>& ListenerSettings() {
  using O = ListenerOptions;
  TlsSettingNames names;
  names.flag_prefix = "admin_tls_";
  names.env_prefix = "ADMIN_TLS_";
  names.certificate_help = "certificate help";
  names.private_key_help = "key help";
  names.client_ca_help = "CA help";
  names.client_certificates_help = "client auth help";
  names.min_version_help = "version help";
  static const auto* table = new settings::SettingsTable<O>(
      {"listener", "Serves one port.", ""},
      {
          settings::Setting<O>("port", settings::Port(&O::port))
              .Env({"ADMIN_PORT"})
              .Default("8443"),
          TlsSettings(&O::tls, names),
          settings::Setting<O>("verbose", settings::Bool(&O::verbose))
              .Default("false"),
      });
  return *table;
}

TEST(TlsSettingsTest, RowsTakeTheirPlaceNamesHelpAndDefaults) {
  std::vector<std::string> rows;
  for (const settings::SettingSpec& spec : ListenerSettings().specs()) {
    rows.push_back(spec.flag + " " +
                   absl::StrJoin(spec.EnvironmentNames(), ",") + " [" +
                   spec.value_description + "] " +
                   spec.default_value.value_or("-") + ": " + spec.help);
  }
  EXPECT_THAT(
      rows,
      ElementsAre(
          "port ADMIN_PORT [port, 0 picks a free one] 8443: ",
          "admin_tls_cert_file ADMIN_TLS_CERT_FILE [path] -: certificate help",
          "admin_tls_key_file ADMIN_TLS_KEY_FILE [path] -: key help",
          "admin_tls_client_ca_file ADMIN_TLS_CLIENT_CA_FILE [path] -: CA help",
          "admin_tls_client_auth ADMIN_TLS_CLIENT_AUTH [off, request or "
          "require] off: client auth help",
          "admin_tls_min_version ADMIN_TLS_MIN_VERSION [1.2 or 1.3] 1.2: "
          "version help",
          "verbose  [true or false] false: "));
  EXPECT_TRUE(ListenerSettings().CheckDefaults().ok());
}

TEST(TlsSettingsTest, EachRowFillsItsFieldOfTheNestedOptions) {
  testing::ExpectTlsRowsFillTheirFields(
      ListenerSettings(), &ListenerOptions::tls,
      {"admin_tls_cert_file", "admin_tls_key_file", "admin_tls_client_ca_file",
       "admin_tls_client_auth", "admin_tls_min_version"});
  // The rows around the group still fill their own fields.
  settings::SettingSources sources;
  sources.flags = {{"port", "9443"}, {"verbose", "true"}};
  absl::StatusOr<ListenerOptions> options = ListenerSettings().Resolve(sources);
  ASSERT_TRUE(options.ok()) << options.status();
  EXPECT_EQ(options->port, 9443);
  EXPECT_TRUE(options->verbose);
}

TEST(TlsSettingsTest, BadValuesNameTheRowTheyCameFrom) {
  settings::SettingSources sources;
  sources.env = {{"ADMIN_TLS_CLIENT_AUTH", "sometimes"}};
  absl::Status status = ListenerSettings().Resolve(sources).status();
  EXPECT_THAT(std::string(status.message()),
              HasSubstr("ADMIN_TLS_CLIENT_AUTH=\"sometimes\""));
  EXPECT_THAT(std::string(status.message()),
              HasSubstr("--admin_tls_client_auth"));
  sources.env.clear();
  sources.flags = {{"admin_tls_min_version", "1.1"}};
  status = ListenerSettings().Resolve(sources).status();
  EXPECT_THAT(std::string(status.message()),
              HasSubstr("--admin_tls_min_version"));
}

}  // namespace
}  // namespace geo::tls
