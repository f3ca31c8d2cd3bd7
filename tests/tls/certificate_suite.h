// The fixture of the tests/tls suites: one set of test certificates for the
// whole suite (made with openssl once, in SetUpTestSuite) under a scratch
// directory that also holds each test's secret volume, and the steps of a
// rotation: publish a renewed server certificate, wait for it to be served.
#ifndef TESTS_TLS_CERTIFICATE_SUITE_H_
#define TESTS_TLS_CERTIFICATE_SUITE_H_

#include <functional>
#include <memory>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "absl/time/time.h"
#include "geo/tls/test_certificates.h"
#include "gtest/gtest.h"
#include "tests/support/server_process.h"
#include "tests/tls/secret_volume.h"

namespace geo::tls::testing {

class CertificateSuite : public ::testing::Test {
 protected:
  // A suite that needs more files adds them in its own SetUpTestSuite after
  // calling this one.
  static void SetUpTestSuite();
  static void TearDownTestSuite();

  // The suite's CA certificate, which signed every server and client pair
  // but the untrusted and self-signed ones.
  static const std::string& ca() { return certificates_->ca.certificate; }

  // A secret volume named after the running test, publishing the suite's
  // server pair and CA.
  static absl::StatusOr<std::unique_ptr<SecretVolume>> NewServerVolume();

  // Issues a server certificate called `name` from the suite's CA, publishes
  // it on `volume` and returns its serial.
  static absl::StatusOr<std::string> PublishRenewedServer(
      SecretVolume& volume, const std::string& name);

  // Polls `condition` every 50 ms until it holds (true) or `timeout` passes
  // (false).
  static bool Eventually(const std::function<bool()>& condition,
                         absl::Duration timeout);

  // $TEST_TMPDIR/certificate_suite and what the suite made in it.
  static std::string* root_;
  static TestCertificates* certificates_;
};

// The suite in front of the real geo_server with mutual TLS required.
class GeoServerTlsSuite : public CertificateSuite {
 protected:
  // Starts server_: MaxMind's City test database, TLS from volume_ (a new
  // server volume), client certificates from the suite's CA required, and
  // `flags`. A fatal failure of the calling test when it does not start.
  void StartGeoServer(const std::vector<std::string>& flags);

  // https://localhost:<the server's HTTP port><path>.
  std::string HttpsUrl(const std::string& path) const;
  // curl's arguments to trust the suite's CA and present `client`.
  static std::vector<std::string> ClientArguments(
      const CertificateFiles& client);

  std::unique_ptr<SecretVolume> volume_;
  std::unique_ptr<::geo::testing::ServerProcess> server_;
};

}  // namespace geo::tls::testing

#endif  // TESTS_TLS_CERTIFICATE_SUITE_H_
