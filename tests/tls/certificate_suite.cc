#include "tests/tls/certificate_suite.h"

#include <cstdlib>
#include <utility>

#include "absl/status/status.h"
#include "absl/strings/str_cat.h"
#include "absl/time/clock.h"
#include "tests/support/test_files.h"

namespace geo::tls::testing {

std::string* CertificateSuite::root_ = nullptr;
TestCertificates* CertificateSuite::certificates_ = nullptr;

void CertificateSuite::SetUpTestSuite() {
  const char* tmp = std::getenv("TEST_TMPDIR");
  root_ = new std::string(
      absl::StrCat(tmp != nullptr ? tmp : "/tmp", "/certificate_suite"));
  absl::StatusOr<TestCertificates> made =
      MakeTestCertificates(*root_ + "/certificates");
  ASSERT_TRUE(made.ok()) << made.status();
  certificates_ = new TestCertificates(*std::move(made));
}

void CertificateSuite::TearDownTestSuite() {
  delete certificates_;
  certificates_ = nullptr;
  delete root_;
  root_ = nullptr;
}

absl::StatusOr<std::unique_ptr<SecretVolume>>
CertificateSuite::NewServerVolume() {
  auto volume = std::make_unique<SecretVolume>(absl::StrCat(
      *root_, "/volume-",
      ::testing::UnitTest::GetInstance()->current_test_info()->name()));
  absl::Status published =
      volume->Publish(certificates_->server, certificates_->ca.certificate);
  if (!published.ok()) return published;
  return volume;
}

absl::StatusOr<std::string> CertificateSuite::PublishRenewedServer(
    SecretVolume& volume, const std::string& name) {
  absl::StatusOr<CertificateFiles> renewed =
      IssueServerCertificate(certificates_->ca, certificates_->directory, name);
  if (!renewed.ok()) return renewed.status();
  absl::Status published =
      volume.Publish(*renewed, certificates_->ca.certificate);
  if (!published.ok()) return published;
  return SerialOf(renewed->certificate);
}

bool CertificateSuite::Eventually(const std::function<bool()>& condition,
                                  absl::Duration timeout) {
  const absl::Time deadline = absl::Now() + timeout;
  while (absl::Now() < deadline) {
    if (condition()) return true;
    absl::SleepFor(absl::Milliseconds(50));
  }
  return false;
}

void GeoServerTlsSuite::StartGeoServer(const std::vector<std::string>& flags) {
  absl::StatusOr<std::unique_ptr<SecretVolume>> volume = NewServerVolume();
  ASSERT_TRUE(volume.ok()) << volume.status();
  volume_ = *std::move(volume);
  std::vector<std::string> args = {
      "--db=" + ::geo::testing::MaxmindTestDataFile("GeoIP2-City-Test.mmdb"),
      "--tls_cert_file=" + volume_->certificate(),
      "--tls_key_file=" + volume_->key(),
      "--tls_client_ca_file=" + volume_->ca(), "--tls_client_auth=require"};
  args.insert(args.end(), flags.begin(), flags.end());
  absl::StatusOr<::geo::testing::ServerProcess> server =
      ::geo::testing::ServerProcess::Start(::geo::testing::GeoServerBinary(),
                                           args);
  ASSERT_TRUE(server.ok()) << server.status();
  server_ = std::make_unique<::geo::testing::ServerProcess>(*std::move(server));
}

std::string GeoServerTlsSuite::HttpsUrl(const std::string& path) const {
  return absl::StrCat("https://localhost:", server_->ports().http, path);
}

std::vector<std::string> GeoServerTlsSuite::ClientArguments(
    const CertificateFiles& client) {
  return {"--cacert", ca(), "--cert", client.certificate, "--key", client.key};
}

}  // namespace geo::tls::testing
