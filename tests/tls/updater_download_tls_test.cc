// The updater's downloads verify the server's certificate: libcurl through
// updater::HttpClient against a real HTTPS server (Python's ssl) refuses a
// self-signed certificate, one from a CA it does not trust and one for
// another name, unless the configured CA bundle trusts the issuer (and the
// name matches). A refusal is FAILED_PRECONDITION "TLS verification failed"
// (not retried: another attempt would meet the same certificate).
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <string>

#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/strip.h"
#include "geo/tls/test_certificates.h"
#include "gtest/gtest.h"
#include "updater/http_client.h"

namespace geo {
namespace {

using tls::testing::CertificateFiles;
using tls::testing::TestCertificates;

constexpr char kBody[] = "a database, or so it says\n";

// tests/tls/https_file_server.py as a child process.
class HttpsFileServer {
 public:
  HttpsFileServer(const CertificateFiles& files, const std::string& directory) {
    int out[2];
    if (pipe(out) != 0) return;
    pid_ = fork();
    if (pid_ == 0) {
      dup2(out[1], 1);
      close(out[0]);
      close(out[1]);
      execlp("python3", "python3", "tests/tls/https_file_server.py",
             files.certificate.c_str(), files.key.c_str(), directory.c_str(),
             nullptr);
      _exit(127);
    }
    close(out[1]);
    FILE* stream = fdopen(out[0], "r");
    char line[64] = {0};
    if (stream != nullptr && fgets(line, sizeof(line), stream) != nullptr) {
      if (!absl::SimpleAtoi(absl::StripAsciiWhitespace(line), &port_)) {
        port_ = 0;
      }
    }
    if (stream != nullptr) fclose(stream);
  }
  ~HttpsFileServer() {
    if (pid_ > 0) {
      kill(pid_, SIGKILL);
      waitpid(pid_, nullptr, 0);
    }
  }

  int port() const { return port_; }

 private:
  pid_t pid_ = -1;
  int port_ = 0;
};

class UpdaterDownloadTlsTest : public ::testing::Test {
 protected:
  static void SetUpTestSuite() {
    const char* tmp = std::getenv("TEST_TMPDIR");
    root_ = new std::string(
        absl::StrCat(tmp != nullptr ? tmp : "/tmp", "/updater_download_tls"));
    absl::StatusOr<TestCertificates> made =
        tls::testing::MakeTestCertificates(*root_ + "/certificates");
    ASSERT_TRUE(made.ok()) << made.status();
    certificates_ = new TestCertificates(*std::move(made));
    std::filesystem::create_directories(*root_ + "/files");
    ASSERT_TRUE(
        tls::testing::WriteFile(*root_ + "/files/GeoLite2-City.mmdb", kBody)
            .ok());
  }
  static void TearDownTestSuite() {
    delete certificates_;
    delete root_;
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

  static std::string* root_;
  static TestCertificates* certificates_;
};

std::string* UpdaterDownloadTlsTest::root_ = nullptr;
TestCertificates* UpdaterDownloadTlsTest::certificates_ = nullptr;

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
