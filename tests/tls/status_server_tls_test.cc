// The updater's status port over TLS: /healthz and /metrics answer curl
// over HTTPS, a plaintext client gets nothing, and a rotated certificate is
// what the next connection sees.
#include <cstdlib>
#include <memory>
#include <string>

#include "absl/strings/str_cat.h"
#include "geo/tls/certificate_reloader.h"
#include "geo/tls/test_certificates.h"
#include "gtest/gtest.h"
#include "tests/tls/secret_volume.h"
#include "tests/tls/tls_clients.h"
#include "updater/status_server.h"

namespace geo {
namespace {

using tls::testing::Curl;

TEST(StatusServerTlsTest, ServesHealthAndMetricsOverTlsAndRotates) {
  const char* tmp = std::getenv("TEST_TMPDIR");
  const std::string root =
      absl::StrCat(tmp != nullptr ? tmp : "/tmp", "/status_server_tls");
  absl::StatusOr<tls::testing::TestCertificates> certificates =
      tls::testing::MakeTestCertificates(root + "/certificates");
  ASSERT_TRUE(certificates.ok()) << certificates.status();
  tls::testing::SecretVolume volume(root + "/volume");
  ASSERT_TRUE(
      volume.Publish(certificates->server, certificates->ca.certificate).ok());
  tls::CertificateReloader::Options options;
  options.tls.certificate_path = volume.certificate();
  options.tls.private_key_path = volume.key();
  absl::StatusOr<std::unique_ptr<tls::CertificateReloader>> reloader =
      tls::CertificateReloader::Create(options);
  ASSERT_TRUE(reloader.ok()) << reloader.status();
  http::HttpTlsOptions tls_options;
  tls_options.certificates = reloader->get();
  absl::StatusOr<std::unique_ptr<http::HttpServer>> server =
      updater::StartStatusServer(
          "127.0.0.1", 0, [] { return true; },
          [] { return std::string("geo_updater_up 1\n"); }, tls_options);
  ASSERT_TRUE(server.ok()) << server.status();
  const int port = (*server)->port();
  const std::string ca = certificates->ca.certificate;

  const tls::testing::CurlResult health = Curl(
      absl::StrCat("https://localhost:", port, "/healthz"), {"--cacert", ca});
  EXPECT_EQ(health.status, 200) << health.errors;
  const tls::testing::CurlResult metrics = Curl(
      absl::StrCat("https://localhost:", port, "/metrics"), {"--cacert", ca});
  EXPECT_EQ(metrics.status, 200);
  EXPECT_EQ(metrics.body, "geo_updater_up 1\n");
  EXPECT_EQ(
      Curl(absl::StrCat("http://localhost:", port, "/healthz"), {}).status, 0);
  EXPECT_EQ(Curl(absl::StrCat("https://localhost:", port, "/healthz"),
                 {"--cacert", certificates->other_ca.certificate})
                .exit_code,
            60);

  absl::StatusOr<tls::testing::CertificateFiles> renewed =
      tls::testing::IssueServerCertificate(certificates->ca,
                                           certificates->directory, "status");
  ASSERT_TRUE(renewed.ok()) << renewed.status();
  ASSERT_TRUE(volume.Publish(*renewed, ca).ok());
  ASSERT_TRUE((*reloader)->Reload().ok());
  EXPECT_EQ(*tls::testing::ServedSerialOverTls(port, ca),
            *tls::testing::SerialOf(renewed->certificate));
  (*server)->Shutdown(absl::Now());
}

}  // namespace
}  // namespace geo
