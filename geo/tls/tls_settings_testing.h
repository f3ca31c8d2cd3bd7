// Checks, for the tests of every binary that serves TLS, that its settings
// table binds the five TLS rows (tls::TlsSettings) to the TlsOptions nested
// in its options, under the flags the binary documents.
#ifndef GEO_TLS_TLS_SETTINGS_TESTING_H_
#define GEO_TLS_TLS_SETTINGS_TESTING_H_

#include <array>
#include <string>

#include "absl/status/statusor.h"
#include "geo/common/settings.h"
#include "geo/tls/tls_options.h"
#include "gtest/gtest.h"

namespace geo::tls::testing {

// The flags (without dashes) of the certificate, private key, client CA,
// client certificates and minimum version rows, in that order.
using TlsFlags = std::array<std::string, 5>;

// Resolves `table` three times: with nothing set (TLS off, client
// certificates off, TLS 1.2), with the five `flags`, and with the five rows'
// environment variables (as the table names them), each row given a value
// no other row takes; every value must land in its own field of
// `Options::*tls`.
template <typename Options>
void ExpectTlsRowsFillTheirFields(const settings::SettingsTable<Options>& table,
                                  TlsOptions Options::*tls,
                                  const TlsFlags& flags) {
  absl::StatusOr<Options> defaults = table.Resolve({});
  ASSERT_TRUE(defaults.ok()) << defaults.status();
  const TlsOptions& off = (*defaults).*tls;
  EXPECT_FALSE(off.enabled());
  EXPECT_EQ(off.private_key_path, "");
  EXPECT_EQ(off.client_ca_path, "");
  EXPECT_EQ(off.client_certificates, ClientCertificates::kOff);
  EXPECT_EQ(off.min_version, TlsVersion::kTls12);

  const std::array<std::string, 5> values = {"/tls/tls.crt", "/tls/tls.key",
                                             "/tls/ca.crt", "require", "1.3"};
  for (const bool from_environment : {false, true}) {
    SCOPED_TRACE(from_environment ? "environment variables" : "flags");
    settings::SettingSources sources;
    for (size_t i = 0; i < flags.size(); ++i) {
      const settings::SettingSpec* spec = table.FindFlag(flags[i]);
      ASSERT_NE(spec, nullptr) << "no flag --" << flags[i];
      ASSERT_FALSE(spec->env.empty()) << "no variable for --" << flags[i];
      if (from_environment) {
        sources.env[spec->env[0].name] = values[i];
      } else {
        sources.flags[flags[i]] = values[i];
      }
    }
    absl::StatusOr<Options> options = table.Resolve(sources);
    ASSERT_TRUE(options.ok()) << options.status();
    const TlsOptions& set = (*options).*tls;
    EXPECT_EQ(set.certificate_path, values[0]);
    EXPECT_EQ(set.private_key_path, values[1]);
    EXPECT_EQ(set.client_ca_path, values[2]);
    EXPECT_EQ(set.client_certificates, ClientCertificates::kRequire);
    EXPECT_EQ(set.min_version, TlsVersion::kTls13);
  }
}

}  // namespace geo::tls::testing

#endif  // GEO_TLS_TLS_SETTINGS_TESTING_H_
