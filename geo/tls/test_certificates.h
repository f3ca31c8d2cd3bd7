// Test certificates made with the `openssl` command (Debian's openssl): a
// CA, a second CA nobody trusts, server and client certificates, an expired
// one and a certificate paired with somebody else's key. EC P-256 keys, so a
// whole set takes a few tens of milliseconds.
#ifndef GEO_TLS_TEST_CERTIFICATES_H_
#define GEO_TLS_TEST_CERTIFICATES_H_

#include <string>
#include <vector>

#include "absl/status/statusor.h"

namespace geo::tls::testing {

// A certificate file and its key file.
struct CertificateFiles {
  std::string certificate;
  std::string key;
};

// The identities the client certificates carry.
inline constexpr char kIngressIdentity[] =
    "spiffe://geo.test/ns/edge/sa/ingress";
inline constexpr char kOtherIdentity[] = "spiffe://geo.test/ns/shop/sa/web";

struct TestCertificates {
  std::string directory;
  CertificateFiles ca;        // the CA that signs everything below
  CertificateFiles other_ca;  // a CA nobody trusts
  // CN=geo-server, SAN DNS:localhost, IP:127.0.0.1, valid 30 days.
  CertificateFiles server;
  // Same names, notAfter yesterday.
  CertificateFiles expired_server;
  // The server certificate with another (valid) key.
  CertificateFiles wrong_key_server;
  // CN=ingress, SAN URI kIngressIdentity, clientAuth.
  CertificateFiles client;
  // CN=web, SAN URI kOtherIdentity.
  CertificateFiles other_client;
  // CN=ingress, SAN URI kIngressIdentity, but signed by other_ca.
  CertificateFiles untrusted_client;
  // Self-signed CN=localhost (SAN DNS:localhost, IP:127.0.0.1).
  CertificateFiles self_signed_server;
};

// Makes the whole set under `directory` (created if missing).
absl::StatusOr<TestCertificates> MakeTestCertificates(
    const std::string& directory);

// Issues one more certificate signed by `ca` into `directory`/`name`.crt and
// .key, with a fresh random serial. `days` may be negative (already
// expired). `extensions` are openssl -extfile lines, e.g.
// "subjectAltName=DNS:localhost".
absl::StatusOr<CertificateFiles> IssueCertificate(
    const CertificateFiles& ca, const std::string& directory,
    const std::string& name, const std::string& subject, int days,
    const std::vector<std::string>& extensions);

// A server certificate like TestCertificates::server with a fresh serial.
absl::StatusOr<CertificateFiles> IssueServerCertificate(
    const CertificateFiles& ca, const std::string& directory,
    const std::string& name);

// Runs `openssl` with `arguments`; its output goes to the returned error.
absl::Status RunOpenSsl(const std::vector<std::string>& arguments);

// The serial of the certificate in `path`, upper-case hex.
absl::StatusOr<std::string> SerialOf(const std::string& path);

// Reads / writes whole files.
absl::StatusOr<std::string> ReadFile(const std::string& path);
absl::Status WriteFile(const std::string& path, const std::string& content);

}  // namespace geo::tls::testing

#endif  // GEO_TLS_TEST_CERTIFICATES_H_
