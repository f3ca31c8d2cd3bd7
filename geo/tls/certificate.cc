#include "geo/tls/certificate.h"

#include <fcntl.h>
#include <openssl/asn1.h>
#include <openssl/bn.h>
#include <openssl/crypto.h>
#include <openssl/err.h>
#include <openssl/pem.h>
#include <openssl/x509v3.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <ctime>
#include <utility>

#include "absl/strings/ascii.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"

namespace geo::tls {
namespace {

// OpenSSL's ASN1_TIME (UTCTime or GeneralizedTime) as an absl::Time.
absl::Time ToTime(const ASN1_TIME* time) {
  struct tm parts;
  std::memset(&parts, 0, sizeof(parts));
  if (time == nullptr || ASN1_TIME_to_tm(time, &parts) != 1) {
    return absl::InfinitePast();
  }
  return absl::FromTimeT(timegm(&parts));
}

std::string NameText(const X509_NAME* name) {
  if (name == nullptr) return "";
  BioPtr bio(BIO_new(BIO_s_mem()));
  if (bio == nullptr) return "";
  X509_NAME_print_ex(bio.get(), name, 0, XN_FLAG_RFC2253);
  char* data = nullptr;
  const long length = BIO_get_mem_data(bio.get(), &data);
  return length > 0 ? std::string(data, static_cast<size_t>(length)) : "";
}

// Never asks for a passphrase: an encrypted key fails to decode.
int NoPassphrase(char*, int, int, void*) { return -1; }

BioPtr ReadOnlyBio(absl::string_view text) {
  return BioPtr(BIO_new_mem_buf(text.data(), static_cast<int>(text.size())));
}

}  // namespace

std::string TakeOpenSslErrors() {
  std::vector<std::string> reasons;
  unsigned long error = 0;
  while ((error = ERR_get_error()) != 0) {
    char text[256];
    ERR_error_string_n(error, text, sizeof(text));
    reasons.emplace_back(text);
  }
  if (reasons.empty()) return "no OpenSSL reason";
  return absl::StrJoin(reasons, "; ");
}

CertificateSummary Summarize(X509* certificate) {
  CertificateSummary summary;
  summary.subject = NameText(X509_get_subject_name(certificate));
  summary.not_before = ToTime(X509_get0_notBefore(certificate));
  summary.not_after = ToTime(X509_get0_notAfter(certificate));
  const ASN1_INTEGER* serial = X509_get0_serialNumber(certificate);
  BIGNUM* number = ASN1_INTEGER_to_BN(serial, nullptr);
  if (number != nullptr) {
    char* hex = BN_bn2hex(number);
    if (hex != nullptr) {
      summary.serial = hex;
      OPENSSL_free(hex);
    }
    BN_free(number);
  }
  return summary;
}

absl::StatusOr<std::vector<X509Ptr>> ParseCertificates(absl::string_view pem) {
  ERR_clear_error();
  if (pem.size() > static_cast<size_t>(INT32_MAX)) {
    return absl::DataLossError("PEM text too large");
  }
  BioPtr bio = ReadOnlyBio(pem);
  if (bio == nullptr) return absl::ResourceExhaustedError("BIO_new_mem_buf");
  std::vector<X509Ptr> certificates;
  while (true) {
    X509Ptr certificate(
        PEM_read_bio_X509(bio.get(), nullptr, NoPassphrase, nullptr));
    if (certificate == nullptr) {
      const unsigned long error = ERR_peek_last_error();
      // No further BEGIN line: the end of the text. Anything else (a block
      // cut short, bad base64, DER that does not decode) is damage.
      if (ERR_GET_LIB(error) == ERR_LIB_PEM &&
          ERR_GET_REASON(error) == PEM_R_NO_START_LINE) {
        ERR_clear_error();
        break;
      }
      return absl::DataLossError(
          absl::StrCat("certificate ", certificates.size() + 1,
                       " does not decode: ", TakeOpenSslErrors()));
    }
    if (certificates.size() == kMaxCertificates) {
      return absl::DataLossError(
          absl::StrCat("more than ", kMaxCertificates, " certificates"));
    }
    certificates.push_back(std::move(certificate));
  }
  if (certificates.empty()) {
    return absl::DataLossError("no PEM certificate found");
  }
  return certificates;
}

absl::StatusOr<EvpPkeyPtr> ParsePrivateKey(absl::string_view pem) {
  ERR_clear_error();
  if (pem.size() > static_cast<size_t>(INT32_MAX)) {
    return absl::DataLossError("PEM text too large");
  }
  BioPtr bio = ReadOnlyBio(pem);
  if (bio == nullptr) return absl::ResourceExhaustedError("BIO_new_mem_buf");
  EvpPkeyPtr key(
      PEM_read_bio_PrivateKey(bio.get(), nullptr, NoPassphrase, nullptr));
  if (key == nullptr) {
    return absl::DataLossError(absl::StrCat(
        "no unencrypted PEM private key found: ", TakeOpenSslErrors()));
  }
  return key;
}

absl::StatusOr<std::string> ReadPemFile(const std::string& path) {
  const int fd = open(path.c_str(), O_RDONLY | O_CLOEXEC);
  if (fd < 0) {
    const int error = errno;
    const std::string message =
        absl::StrCat("cannot open ", path, ": ", std::strerror(error));
    if (error == ENOENT) return absl::NotFoundError(message);
    if (error == EACCES) return absl::PermissionDeniedError(message);
    return absl::FailedPreconditionError(message);
  }
  struct stat info;
  std::string text;
  absl::Status status;
  if (fstat(fd, &info) != 0 || !S_ISREG(info.st_mode)) {
    status = absl::FailedPreconditionError(
        absl::StrCat(path, " is not a regular file"));
  } else if (static_cast<size_t>(info.st_size) > kMaxPemFileBytes) {
    status = absl::FailedPreconditionError(
        absl::StrCat(path, " is larger than ", kMaxPemFileBytes, " bytes"));
  } else {
    char buffer[16 * 1024];
    while (true) {
      const ssize_t n = read(fd, buffer, sizeof(buffer));
      if (n < 0 && errno == EINTR) continue;
      if (n < 0) {
        status = absl::FailedPreconditionError(
            absl::StrCat("cannot read ", path, ": ", std::strerror(errno)));
        break;
      }
      if (n == 0) break;
      text.append(buffer, static_cast<size_t>(n));
      if (text.size() > kMaxPemFileBytes) {
        status = absl::FailedPreconditionError(
            absl::StrCat(path, " is larger than ", kMaxPemFileBytes, " bytes"));
        break;
      }
    }
    OPENSSL_cleanse(buffer, sizeof(buffer));
  }
  close(fd);
  if (!status.ok()) {
    OPENSSL_cleanse(text.data(), text.size());
    return status;
  }
  return text;
}

KeyPair::~KeyPair() { OPENSSL_cleanse(key_pem_.data(), key_pem_.size()); }

absl::StatusOr<std::shared_ptr<const KeyPair>> KeyPair::FromPem(
    std::string chain_pem, std::string key_pem, absl::Time now) {
  std::shared_ptr<KeyPair> pair(new KeyPair());
  pair->chain_pem_ = std::move(chain_pem);
  pair->key_pem_ = std::move(key_pem);
  absl::StatusOr<std::vector<X509Ptr>> chain =
      ParseCertificates(pair->chain_pem_);
  if (!chain.ok()) {
    return absl::DataLossError(
        absl::StrCat("certificate chain: ", chain.status().message()));
  }
  pair->chain_ = *std::move(chain);
  absl::StatusOr<EvpPkeyPtr> key = ParsePrivateKey(pair->key_pem_);
  if (!key.ok()) {
    return absl::DataLossError(
        absl::StrCat("private key: ", key.status().message()));
  }
  pair->key_ = *std::move(key);
  ERR_clear_error();
  if (X509_check_private_key(pair->leaf(), pair->key()) != 1) {
    ERR_clear_error();
    return absl::InvalidArgumentError(
        "the private key does not match the certificate");
  }
  for (size_t i = 0; i + 1 < pair->chain_.size(); ++i) {
    if (X509_check_issued(pair->chain_[i + 1].get(), pair->chain_[i].get()) !=
        X509_V_OK) {
      return absl::InvalidArgumentError(absl::StrCat(
          "certificate ", i + 2, " of the chain did not issue certificate ",
          i + 1, " (the chain must be leaf first, then each issuer)"));
    }
  }
  pair->leaf_summary_ = Summarize(pair->leaf());
  const CertificateSummary& leaf = pair->leaf_summary_;
  if (now >= leaf.not_after) {
    return absl::FailedPreconditionError(
        absl::StrCat("the certificate expired at ",
                     absl::FormatTime(leaf.not_after, absl::UTCTimeZone())));
  }
  if (now + kNotBeforeSkew < leaf.not_before) {
    return absl::FailedPreconditionError(
        absl::StrCat("the certificate is not valid before ",
                     absl::FormatTime(leaf.not_before, absl::UTCTimeZone())));
  }
  return std::shared_ptr<const KeyPair>(std::move(pair));
}

absl::StatusOr<std::shared_ptr<const KeyPair>> KeyPair::FromFiles(
    const std::string& chain_path, const std::string& key_path,
    absl::Time now) {
  absl::StatusOr<std::string> chain = ReadPemFile(chain_path);
  if (!chain.ok()) return chain.status();
  absl::StatusOr<std::string> key = ReadPemFile(key_path);
  if (!key.ok()) return key.status();
  absl::StatusOr<std::shared_ptr<const KeyPair>> pair =
      FromPem(*std::move(chain), *std::move(key), now);
  if (!pair.ok()) {
    return absl::Status(pair.status().code(),
                        absl::StrCat(chain_path, " + ", key_path, ": ",
                                     pair.status().message()));
  }
  return pair;
}

absl::StatusOr<std::shared_ptr<const CertificateBundle>>
CertificateBundle::FromPem(std::string pem) {
  std::shared_ptr<CertificateBundle> bundle(new CertificateBundle());
  bundle->pem_ = std::move(pem);
  absl::StatusOr<std::vector<X509Ptr>> certificates =
      ParseCertificates(bundle->pem_);
  if (!certificates.ok()) return certificates.status();
  bundle->certificates_ = *std::move(certificates);
  for (const X509Ptr& certificate : bundle->certificates_) {
    bundle->earliest_not_after_ =
        std::min(bundle->earliest_not_after_,
                 ToTime(X509_get0_notAfter(certificate.get())));
  }
  return std::shared_ptr<const CertificateBundle>(std::move(bundle));
}

absl::StatusOr<std::shared_ptr<const CertificateBundle>>
CertificateBundle::FromFile(const std::string& path) {
  absl::StatusOr<std::string> pem = ReadPemFile(path);
  if (!pem.ok()) return pem.status();
  absl::StatusOr<std::shared_ptr<const CertificateBundle>> bundle =
      FromPem(*std::move(pem));
  if (!bundle.ok()) {
    return absl::Status(bundle.status().code(),
                        absl::StrCat(path, ": ", bundle.status().message()));
  }
  return bundle;
}

}  // namespace geo::tls
