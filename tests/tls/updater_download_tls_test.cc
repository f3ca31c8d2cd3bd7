// The updater's downloads verify the server's certificate: libcurl through
// updater::HttpClient against a real HTTPS server (Python's ssl) refuses a
// self-signed certificate, one from a CA it does not trust and one for
// another name, unless the configured CA bundle trusts the issuer (and the
// name matches). A refusal is FAILED_PRECONDITION "TLS verification failed"
// (not retried: another attempt would meet the same certificate).
#include <filesystem>
#include <optional>
#include <string>
#include <utility>

#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/strip.h"
#include "geo/tls/test_certificates.h"
#include "gtest/gtest.h"
#include "tests/support/child_process.h"
#include "tests/tls/certificate_suite.h"
#include "updater/http_client.h"

namespace geo {
namespace {

using tls::testing::CertificateFiles;

constexpr char kBody[] = "a database, or so it says\n";

// tests/tls/https_file_server.py as a child process, which prints its port.
class HttpsFileServer {
 public:
  HttpsFileServer(const CertificateFiles& files, const std::string& directory) {
    absl::StatusOr<std::string> python = testing::FindProgram("python3");
    if (!python.ok()) return;
    absl::StatusOr<testing::ChildProcess> child = testing::ChildProcess::Start(
        {{*python, "tests/tls/https_file_server.py", files.certificate,
          files.key, directory},
         std::nullopt,
         absl::ZeroDuration()});
    if (!child.ok()) return;
    child_.emplace(*std::move(child));
    if (child_->WaitForOutput("\n", absl::Seconds(30)) &&
        !absl::SimpleAtoi(absl::StripAsciiWhitespace(child_->Stdout()),
                          &port_)) {
      port_ = 0;
    }
  }

  int port() const { return port_; }

 private:
  std::optional<testing::ChildProcess> child_;
  int port_ = 0;
};

class UpdaterDownloadTlsTest : public tls::testing::CertificateSuite {
 protected:
  static void SetUpTestSuite() {
    CertificateSuite::SetUpTestSuite();
    std::filesystem::create_directories(*root_ + "/files");
    ASSERT_TRUE(
        tls::testing::WriteFile(*root_ + "/files/GeoLite2-City.mmdb", kBody)
            .ok());
  }

  // GET of the file from a server presenting `served`, trusting `ca_bundle`
  // ("" for the system's bundle).
  absl::StatusOr<std::string> Download(const CertificateFiles& served,
                                       const std::string& ca_bundle) {
    HttpsFileServer server(served, *root_ + "/files");
    if (server.port() == 0) return absl::InternalError("no server");
    updater::HttpClientOptions options;
    options.ca_bundle = ca_bundle;
    options.total_timeout = absl::Seconds(20);
    updater::HttpClient client(options, nullptr);
    updater::HttpRequest request;
    request.url = absl::StrCat("https://127.0.0.1:", server.port(),
                               "/GeoLite2-City.mmdb");
    std::string body;
    absl::StatusOr<updater::HttpResponse> response =
        client.Get(request, [&body](absl::string_view chunk) {
          body.append(chunk.data(), chunk.size());
          return absl::OkStatus();
        });
    if (!response.ok()) return response.status();
    if (response->status != 200) {
      return absl::InternalError(absl::StrCat("HTTP ", response->status));
    }
    return body;
  }
};

TEST_F(UpdaterDownloadTlsTest, RefusesASelfSignedCertificateUnlessTrusted) {
  absl::StatusOr<std::string> untrusted =
      Download(certificates_->self_signed_server, "");
  ASSERT_FALSE(untrusted.ok());
  EXPECT_EQ(untrusted.status().code(), absl::StatusCode::kFailedPrecondition)
      << untrusted.status();
  absl::StatusOr<std::string> other_bundle = Download(
      certificates_->self_signed_server, certificates_->ca.certificate);
  ASSERT_FALSE(other_bundle.ok());
  EXPECT_EQ(other_bundle.status().code(),
            absl::StatusCode::kFailedPrecondition);
  absl::StatusOr<std::string> trusted =
      Download(certificates_->self_signed_server,
               certificates_->self_signed_server.certificate);
  ASSERT_TRUE(trusted.ok()) << trusted.status();
  EXPECT_EQ(*trusted, kBody);
}

TEST_F(UpdaterDownloadTlsTest, RefusesACertificateFromAnUntrustedCa) {
  EXPECT_EQ(Download(certificates_->server, "").status().code(),
            absl::StatusCode::kFailedPrecondition);
  EXPECT_EQ(Download(certificates_->server, certificates_->other_ca.certificate)
                .status()
                .code(),
            absl::StatusCode::kFailedPrecondition);
  absl::StatusOr<std::string> trusted =
      Download(certificates_->server, certificates_->ca.certificate);
  ASSERT_TRUE(trusted.ok()) << trusted.status();
  EXPECT_EQ(*trusted, kBody);
}

TEST_F(UpdaterDownloadTlsTest, RefusesACertificateForAnotherName) {
  absl::StatusOr<CertificateFiles> elsewhere = tls::testing::IssueCertificate(
      certificates_->ca, certificates_->directory, "elsewhere",
      "/CN=updates.example", 30,
      {"subjectAltName=DNS:updates.example", "extendedKeyUsage=serverAuth"});
  ASSERT_TRUE(elsewhere.ok()) << elsewhere.status();
  EXPECT_EQ(Download(*elsewhere, certificates_->ca.certificate).status().code(),
            absl::StatusCode::kFailedPrecondition);
}

TEST_F(UpdaterDownloadTlsTest, RefusesAnExpiredCertificate) {
  EXPECT_EQ(
      Download(certificates_->expired_server, certificates_->ca.certificate)
          .status()
          .code(),
      absl::StatusCode::kFailedPrecondition);
}

}  // namespace
}  // namespace geo
