// A directory laid out the way Kubernetes mounts a Secret: tls.crt, tls.key
// and ca.crt are symlinks into ..data, itself a symlink to a versioned
// directory; Publish swaps ..data atomically (rename of a new symlink), as
// the kubelet does when cert-manager updates the Secret.
#ifndef TESTS_TLS_SECRET_VOLUME_H_
#define TESTS_TLS_SECRET_VOLUME_H_

#include <string>

#include "absl/status/status.h"
#include "geo/tls/test_certificates.h"

namespace geo::tls::testing {

class SecretVolume {
 public:
  explicit SecretVolume(std::string directory);

  std::string certificate() const { return directory_ + "/tls.crt"; }
  std::string key() const { return directory_ + "/tls.key"; }
  std::string ca() const { return directory_ + "/ca.crt"; }

  // A new version with copies of these files, swapped in at once.
  absl::Status Publish(const CertificateFiles& pair, const std::string& ca);

 private:
  const std::string directory_;
  int versions_ = 0;
};

}  // namespace geo::tls::testing

#endif  // TESTS_TLS_SECRET_VOLUME_H_
