// Certificates and private keys read from PEM and checked before anything
// serves with them: a chain that parses whole and in order, a key that
// matches its leaf, validity that covers now. A file caught half-written,
// a key from another pair or an expired certificate is an error, never a
// partly loaded object.
#ifndef GEO_TLS_CERTIFICATE_H_
#define GEO_TLS_CERTIFICATE_H_

#include <cstddef>
#include <memory>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "absl/time/time.h"
#include "geo/tls/openssl_handles.h"

namespace geo::tls {

// Any TLS file larger than this is refused unread: a full public CA bundle
// is about 200 KiB.
inline constexpr size_t kMaxPemFileBytes = 1024 * 1024;
// Certificates in one chain or bundle.
inline constexpr size_t kMaxCertificates = 500;
// A certificate whose notBefore is at most this far in the future is
// accepted: the issuer's clock may run slightly ahead of ours, and a
// refused renewal would not be retried until the files change again.
inline constexpr absl::Duration kNotBeforeSkew = absl::Minutes(5);

// What logs and metrics say about one certificate.
struct CertificateSummary {
  std::string subject;
  // Upper-case hex, as `openssl x509 -serial` prints it.
  std::string serial;
  absl::Time not_before;
  absl::Time not_after;
};

CertificateSummary Summarize(X509* certificate);

// Every certificate of a PEM text, in order. Text outside PEM blocks is
// ignored (bundles carry comments); a block that does not decode, a
// truncated block, a text without any certificate, or more than
// kMaxCertificates is DATA_LOSS.
absl::StatusOr<std::vector<X509Ptr>> ParseCertificates(absl::string_view pem);

// The one private key of a PEM text (PKCS#8, RSA or EC). Encrypted keys are
// refused (no passphrase prompt, ever). DATA_LOSS when it does not decode.
absl::StatusOr<EvpPkeyPtr> ParsePrivateKey(absl::string_view pem);

// Reads a whole file of at most kMaxPemFileBytes. NOT_FOUND, PERMISSION_DENIED
// or FAILED_PRECONDITION (too large, not a regular file) otherwise.
absl::StatusOr<std::string> ReadPemFile(const std::string& path);

// A certificate chain (leaf first) and its private key. Immutable; the key's
// PEM text is wiped from memory when the object goes.
class KeyPair {
 public:
  // Checks, in this order: the chain parses (DATA_LOSS), the key parses
  // (DATA_LOSS), the key is the leaf's (INVALID_ARGUMENT), each certificate
  // is issued by the next one (INVALID_ARGUMENT), the leaf is valid at `now`
  // give or take kNotBeforeSkew before (FAILED_PRECONDITION).
  static absl::StatusOr<std::shared_ptr<const KeyPair>> FromPem(
      std::string chain_pem, std::string key_pem, absl::Time now);
  // FromPem on the two files' contents; errors name the file.
  static absl::StatusOr<std::shared_ptr<const KeyPair>> FromFiles(
      const std::string& chain_path, const std::string& key_path,
      absl::Time now);

  ~KeyPair();
  KeyPair(const KeyPair&) = delete;
  KeyPair& operator=(const KeyPair&) = delete;

  const std::string& chain_pem() const { return chain_pem_; }
  const std::string& key_pem() const { return key_pem_; }
  X509* leaf() const { return chain_.front().get(); }
  // Leaf first.
  const std::vector<X509Ptr>& chain() const { return chain_; }
  EVP_PKEY* key() const { return key_.get(); }
  const CertificateSummary& leaf_summary() const { return leaf_summary_; }

 private:
  KeyPair() = default;

  std::string chain_pem_;
  std::string key_pem_;
  std::vector<X509Ptr> chain_;
  EvpPkeyPtr key_;
  CertificateSummary leaf_summary_;
};

// Trusted CA certificates (a client CA bundle, or the roots a client trusts).
// Immutable.
class CertificateBundle {
 public:
  // At least one certificate; expired ones are kept (a bundle may hold an
  // old root alongside its successor) but counted by earliest_not_after().
  static absl::StatusOr<std::shared_ptr<const CertificateBundle>> FromPem(
      std::string pem);
  static absl::StatusOr<std::shared_ptr<const CertificateBundle>> FromFile(
      const std::string& path);

  const std::string& pem() const { return pem_; }
  const std::vector<X509Ptr>& certificates() const { return certificates_; }
  // The soonest expiry among the bundle's certificates.
  absl::Time earliest_not_after() const { return earliest_not_after_; }

 private:
  CertificateBundle() = default;

  std::string pem_;
  std::vector<X509Ptr> certificates_;
  absl::Time earliest_not_after_ = absl::InfiniteFuture();
};

}  // namespace geo::tls

#endif  // GEO_TLS_CERTIFICATE_H_
