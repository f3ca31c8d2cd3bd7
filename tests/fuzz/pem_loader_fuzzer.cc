// The TLS file loader: certificate chains, CA bundles and private keys as a
// half-written or hostile file would present them. The input is split at
// its first NUL into a chain and a key. Oracle: every refusal has the
// documented code (DATA_LOSS for text that does not decode; a pair may also
// be INVALID_ARGUMENT or FAILED_PRECONDITION), every success holds between
// one and kMaxCertificates certificates whose summary and identity can be
// read.
#include <cstddef>
#include <cstdint>

#include "absl/status/status.h"
#include "absl/strings/string_view.h"
#include "absl/time/time.h"
#include "geo/tls/certificate.h"
#include "geo/tls/identity.h"
#include "tests/fuzz/fuzz_check.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  const absl::string_view input(reinterpret_cast<const char*>(data), size);
  const size_t split = input.find('\0');
  const absl::string_view chain = input.substr(0, split);
  const absl::string_view key =
      split == absl::string_view::npos ? "" : input.substr(split + 1);

  auto certificates = geo::tls::ParseCertificates(chain);
  if (!certificates.ok()) {
    FUZZ_CHECK(certificates.status().code() == absl::StatusCode::kDataLoss,
               certificates.status().ToString());
  } else {
    FUZZ_CHECK(!certificates->empty() &&
                   certificates->size() <= geo::tls::kMaxCertificates,
               "certificate count");
    for (const geo::tls::X509Ptr& certificate : *certificates) {
      const geo::tls::CertificateSummary summary =
          geo::tls::Summarize(certificate.get());
      (void)summary;
      const geo::tls::PeerIdentity identity =
          geo::tls::IdentityOf(certificate.get());
      (void)identity.primary();
    }
  }

  auto bundle = geo::tls::CertificateBundle::FromPem(std::string(chain));
  FUZZ_CHECK(bundle.ok() == certificates.ok(), "bundle agrees with parser");

  auto private_key = geo::tls::ParsePrivateKey(key);
  if (!private_key.ok()) {
    FUZZ_CHECK(private_key.status().code() == absl::StatusCode::kDataLoss,
               private_key.status().ToString());
  }

  auto pair = geo::tls::KeyPair::FromPem(std::string(chain), std::string(key),
                                         absl::FromUnixSeconds(1800000000));
  if (!pair.ok()) {
    const absl::StatusCode code = pair.status().code();
    FUZZ_CHECK(code == absl::StatusCode::kDataLoss ||
                   code == absl::StatusCode::kInvalidArgument ||
                   code == absl::StatusCode::kFailedPrecondition,
               pair.status().ToString());
  } else {
    FUZZ_CHECK(certificates.ok() && private_key.ok(),
               "a pair needs a chain and a key that parse alone");
  }
  return 0;
}
